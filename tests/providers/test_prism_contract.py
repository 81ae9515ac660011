"""Each provider's real requests against the provider's own OpenAPI file, served by Prism.

Prism answers a request that breaks the spec with a 4xx and an `sl-violations` header;
the providers turn a 4xx into an error, so a wrong field fails these tests. The last test
proves it: deliberately wrong bodies are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from botocore.credentials import Credentials

from pipeline.send.providers import brevo, mailgun, postmark, sendgrid
from pipeline.send.providers.base import Provider
from pipeline.send.providers.brevo import BrevoProvider
from pipeline.send.providers.http import json_bytes
from pipeline.send.providers.mailgun import MailgunProvider
from pipeline.send.providers.postmark import PostmarkProvider
from pipeline.send.providers.sendgrid import SendGridProvider
from pipeline.send.providers.ses import SesProvider
from pipeline.send.providers.ses import request_body as ses_body
from tests.providers.conftest import make_messages, run

SPECS = {
    "postmark": "postmark-server-sending.swagger.yaml",
    "sendgrid": "sendgrid-mail-v3.openapi.yaml",
    "mailgun": "mailgun.openapi.prism.yaml",
    "brevo": "brevo-v3.openapi.yml",
    "ses": "sesv2-send.openapi.json",
}
CREDENTIALS = Credentials("AKIDTEST", "secret")


def factory(name: str, url: str, max_batch: int | None) -> Callable[[], Provider]:
    return {
        "postmark": lambda: PostmarkProvider("token", base_url=url, max_batch=max_batch),
        "sendgrid": lambda: SendGridProvider("token", base_url=url, max_batch=max_batch),
        "mailgun": lambda: MailgunProvider(
            "key", "mg.example.org", base_url=url, max_batch=max_batch
        ),
        "brevo": lambda: BrevoProvider("key", base_url=url, max_batch=max_batch),
        "ses": lambda: SesProvider("eu-central-1", base_url=url, credentials=CREDENTIALS),
    }[name]


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("batch", [1, 3])
def test_requests_match_the_providers_spec(
    name: str, batch: int, prism: Callable[[str], str]
) -> None:
    url = prism(SPECS[name])
    messages = make_messages(batch)
    results = run(factory(name, url, None if batch > 1 else 1), lambda p: p.send_batch(messages))
    assert [r.delivery_id for r in results] == [m.delivery_id for m in messages]
    assert all(r.ok for r in results), results


def _violations(response: httpx.Response) -> list[str]:
    return [v["message"] for v in json.loads(response.headers.get("sl-violations", "[]"))]


def test_prism_refuses_a_wrong_field(prism: Callable[[str], str]) -> None:
    """The check has teeth: each provider's body with one field wrong is a 4xx."""
    (message,) = make_messages(1)
    wrong: list[tuple[str, str, dict[str, object]]] = []

    body = postmark.message_body(message, "broadcast")
    wrong.append(
        ("postmark", "/email/batch", {"content": json_bytes([body | {"To": [message.to_address]}])})
    )
    body = sendgrid.request_body([message])
    wrong.append(
        (
            "sendgrid",
            "/v3/mail/send",
            {"content": json_bytes({k: v for k, v in body.items() if k != "from"})},
        )
    )
    body = brevo.request_body(make_messages(2))
    versions = [{"params": v["params"]} for v in body["messageVersions"]]  # type: ignore[attr-defined]
    wrong.append(
        ("brevo", "/smtp/email", {"content": json_bytes(body | {"messageVersions": versions})})
    )
    body = ses_body(message)
    body["Content"]["Simple"]["Subject"] = {"Charset": "UTF-8"}  # type: ignore[index]
    wrong.append(("ses", "/v2/email/outbound-emails", {"content": json_bytes(body)}))
    fields = [(k, v) for k, v in mailgun.form_fields([message]) if k != "subject"]
    wrong.append(
        ("mailgun", "/v3/mg.example.org/messages", {"files": [(k, (None, v)) for k, v in fields]})
    )

    for name, path, kwargs in wrong:
        headers = {
            "X-Postmark-Server-Token": "t",
            "Authorization": "Bearer t" if name != "mailgun" else "Basic YXBpOnQ=",
            "api-key": "t",
        }
        if "content" in kwargs:
            headers["Content-Type"] = "application/json"
        response = httpx.post(prism(SPECS[name]) + path, headers=headers, **kwargs)  # type: ignore[arg-type]
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        assert _violations(response), name
