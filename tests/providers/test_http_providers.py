"""The HTTP mail APIs against fake servers speaking each API over real HTTP: what each
recipient receives, and how throttling, outages, bad credentials and bad addresses end."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from botocore.credentials import Credentials

from pipeline.errors import PermanentProviderError, RetryableProviderError
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers import brevo, postmark
from pipeline.send.providers.base import Provider
from pipeline.send.providers.brevo import BrevoProvider
from pipeline.send.providers.mailgun import MailgunProvider
from pipeline.send.providers.postmark import PostmarkProvider
from pipeline.send.providers.sendgrid import SendGridProvider
from pipeline.send.providers.ses import SesProvider
from tests.providers.conftest import make_messages, run
from tests.providers.fake_apis import (
    TOKEN,
    Delivered,
    FakeBrevo,
    FakeMailgun,
    FakePostmark,
    FakeSendGrid,
    FakeSes,
)
from tests.providers.fake_http import FakeServer, Fault, Handler


@dataclass
class Service:
    api: FakePostmark | FakeSendGrid | FakeMailgun | FakeBrevo | FakeSes
    server: FakeServer
    make: Callable[..., Provider]

    def send(self, messages: list[OutgoingMessage], **options: object) -> list[SendResult]:
        return run(lambda: self.make(**options), lambda p: p.send_batch(messages))

    @property
    def delivered(self) -> list[Delivered]:
        return self.api.delivered


BATCH_APIS = ["sendgrid", "mailgun", "brevo"]
ALL = ["postmark", "sendgrid", "mailgun", "brevo", "ses"]


def _service(name: str, start: Callable[[Handler], FakeServer]) -> Service:
    api = {
        "postmark": FakePostmark,
        "sendgrid": FakeSendGrid,
        "mailgun": FakeMailgun,
        "brevo": FakeBrevo,
        "ses": FakeSes,
    }[name]()
    server = start(api.handle)
    url = server.url

    def make(token: str = TOKEN, max_batch: int | None = None, timeout_s: float = 5) -> Provider:
        if name == "postmark":
            return PostmarkProvider(token, base_url=url, max_batch=max_batch, timeout_s=timeout_s)
        if name == "sendgrid":
            return SendGridProvider(token, base_url=url, max_batch=max_batch, timeout_s=timeout_s)
        if name == "mailgun":
            return MailgunProvider(
                token, "mg.example.org", base_url=url, max_batch=max_batch, timeout_s=timeout_s
            )
        if name == "brevo":
            return BrevoProvider(
                token, base_url=url + "/v3", max_batch=max_batch, timeout_s=timeout_s
            )
        key = "AKIDTEST" if token == TOKEN else "AKIDWRONG"
        return SesProvider(
            "eu-central-1", base_url=url, credentials=Credentials(key, "s"), timeout_s=timeout_s
        )

    return Service(api, server, make)


@pytest.fixture(params=ALL)
def service(
    request: pytest.FixtureRequest, fake_server: Callable[[Handler], FakeServer]
) -> Service:
    return _service(request.param, fake_server)


@pytest.fixture(params=BATCH_APIS)
def batch_service(
    request: pytest.FixtureRequest, fake_server: Callable[[Handler], FakeServer]
) -> Service:
    return _service(request.param, fake_server)


def _by_recipient(delivered: list[Delivered]) -> dict[str, Delivered]:
    recipients = [d.to for d in delivered]
    assert len(recipients) == len(set(recipients)), "someone got the mail twice"
    return {d.to: d for d in delivered}


def test_every_recipient_gets_their_own_links_greeting_and_headers(service: Service) -> None:
    messages = make_messages(10, variants=("de", "en"))
    results = service.send(messages)

    assert [r.delivery_id for r in results] == [m.delivery_id for m in messages]
    assert all(r.ok and r.provider_message_id for r in results), results
    received = _by_recipient(service.delivered)
    assert set(received) == {m.to_address for m in messages}
    for message in messages:
        got = received[message.to_address]
        # What the service delivers is exactly the message rendered for this reader:
        # their greeting (escaped in HTML, plain in text), their links, their headers.
        assert got.html == message.html
        assert got.text == message.text
        assert got.subject == message.subject
        assert got.headers["List-Unsubscribe"] == message.headers["List-Unsubscribe"]
        assert got.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.values["unsubscribe_url"] in got.headers["List-Unsubscribe"]
        # The delivery's token rides along: a bounce or reply that quotes it names the delivery.
        assert got.headers["X-Newsletter-Delivery"] == message.headers["X-Newsletter-Delivery"]


def test_the_greeting_is_escaped_in_html_only(service: Service) -> None:
    (message,) = make_messages(1, start=6)  # "Ömer & Co <Büro>"
    service.send([message])
    (got,) = service.delivered
    assert "Hallo Ömer &amp; Co &lt;Büro&gt;," in got.html
    assert "Hallo Ömer & Co <Büro>," in got.text


def test_batch_apis_send_the_body_once_per_call(batch_service: Service) -> None:
    messages = make_messages(50)
    batch_service.send(messages)
    (call,) = batch_service.server.requests
    # The shared paragraph appears once in the HTML and once in the text, not 50 times.
    assert call.body.count(b"Neues aus dem Quartier") == 2
    assert len(batch_service.delivered) == 50


def test_one_call_per_variant_and_nothing_resent_when_the_second_is_throttled(
    batch_service: Service,
) -> None:
    messages = make_messages(6, variants=("de", "en"))
    batch_service.server.fail(Fault("pass"), Fault("status", 429, {"Retry-After": "0"}))
    results = batch_service.send(messages)
    assert all(r.ok for r in results)
    assert len(batch_service.server.requests) == 3
    _by_recipient(batch_service.delivered)  # each reader once
    assert len(batch_service.delivered) == 6


def test_429_is_retryable_with_the_retry_after_seconds(service: Service) -> None:
    service.server.fail(Fault("status", 429, {"Retry-After": "7"}))
    with pytest.raises(RetryableProviderError) as caught:
        service.send(make_messages(3))
    assert caught.value.retry_after_s == 7
    assert service.delivered == []


def test_retry_after_as_an_http_date(service: Service) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    service.server.fail(Fault("status", 429, {"Retry-After": when}))
    with pytest.raises(RetryableProviderError) as caught:
        service.send(make_messages(1))
    assert caught.value.retry_after_s is not None and 25 <= caught.value.retry_after_s <= 30


@pytest.mark.parametrize(
    "fault",
    [Fault("status", 500), Fault("status", 503), Fault("drop"), Fault("hang", seconds=3)],
    ids=["500", "503", "dropped-connection", "timeout"],
)
def test_outages_are_retryable_and_the_next_call_goes_through(
    service: Service, fault: Fault
) -> None:
    messages = make_messages(3)
    service.server.fail(fault)
    with pytest.raises(RetryableProviderError):
        service.send(messages, timeout_s=0.5)
    assert service.delivered == []
    results = service.send(messages)
    assert all(r.ok for r in results)
    assert len(service.delivered) == 3


def test_a_500_storm_stays_retryable(service: Service) -> None:
    service.server.fail(*[Fault("status", 500)] * 5)
    for _ in range(5):
        with pytest.raises(RetryableProviderError):
            service.send(make_messages(2))
    assert service.send(make_messages(2))[0].ok


def test_bad_credentials_stop_after_one_call(service: Service) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        service.send(make_messages(5), token="wrong-token")
    assert len(service.server.requests) == 1
    assert "wrong-token" not in str(caught.value)
    assert service.delivered == []


def test_an_invalid_address_fails_only_that_message(service: Service) -> None:
    messages = make_messages(5, invalid=(3,))
    results = service.send(messages)
    failed = [r.delivery_id for r in results if not r.ok]
    assert failed == [3]
    assert sorted(d.to for d in service.delivered) == sorted(
        m.to_address for m in messages if m.delivery_id != 3
    )
    _by_recipient(service.delivered)


def test_max_batch_one_uses_the_single_message_form(service: Service) -> None:
    (message,) = make_messages(1)
    results = service.send([message], max_batch=1)
    assert results[0].ok
    (got,) = service.delivered
    assert got.html == message.html
    assert got.headers["List-Unsubscribe"] == message.headers["List-Unsubscribe"]


def test_postmark_single_endpoint(fake_server: Callable[[Handler], FakeServer]) -> None:
    service = _service("postmark", fake_server)
    service.send(make_messages(1), max_batch=1)
    assert [r.path for r in service.server.requests] == ["/email"]


def test_brevo_drops_a_repeated_call_by_its_idempotency_key(
    fake_server: Callable[[Handler], FakeServer],
) -> None:
    service = _service("brevo", fake_server)
    messages = make_messages(4)
    first = service.send(messages)
    again = service.send(messages)  # say, a retry after a timeout that did go through
    assert all(r.ok for r in first + again)
    assert len(service.delivered) == 4
    assert service.make().deduplicates_retries


@pytest.mark.parametrize("name", ["postmark", "mailgun"])
def test_find_accepted_asks_the_service_by_delivery_key(
    name: str, fake_server: Callable[[Handler], FakeServer]
) -> None:
    service = _service(name, fake_server)
    sent = make_messages(3)
    results = service.send(sent)
    never_sent = make_messages(2, start=50)

    async def ask(provider: Provider) -> dict[int, str]:
        return await provider.find_accepted(sent + never_sent)  # type: ignore[attr-defined]

    found = run(service.make, ask)
    assert set(found) == {1, 2, 3}
    if name == "postmark":  # Postmark ids are per message; Mailgun's per call
        assert found == {r.delivery_id: r.provider_message_id for r in results}


def test_a_line_break_in_a_header_field_is_refused_not_sent(service: Service) -> None:
    messages = make_messages(3)
    evil = dataclasses.replace(messages[1], to_name="Eve\r\nBcc: everyone@example.org")
    results = service.send([messages[0], evil, messages[2]])
    assert [r.ok for r in results] == [True, False, True]
    assert "header injection" in (results[1].error or "")
    assert all(b"everyone@example.org" not in r.body for r in service.server.requests)
    assert len(service.delivered) == 2


def test_postmark_splits_a_batch_over_50_mb_into_calls(
    fake_server: Callable[[Handler], FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postmark, "MAX_CALL_BYTES", 4_000)  # each test message is ~2.6 KB
    service = _service("postmark", fake_server)
    service.server.fail(Fault("pass"), Fault("status", 503, {"Retry-After": "0"}))
    messages = make_messages(4)
    results = service.send(messages)
    assert all(r.ok for r in results)
    assert len(service.server.requests) == 5  # 4 calls, one of them tried twice
    assert sorted(d.to for d in service.delivered) == sorted(m.to_address for m in messages)


def test_brevo_keeps_each_calls_params_under_its_cap(
    fake_server: Callable[[Handler], FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(brevo, "MAX_PARAMS_BYTES", 1_500)  # about two readers' values
    service = _service("brevo", fake_server)
    messages = make_messages(6)
    assert all(r.ok for r in service.send(messages))
    assert len(service.server.requests) >= 3
    keys = [r.json()["headers"]["idempotencyKey"] for r in service.server.requests]  # type: ignore[index]
    assert len(set(keys)) == len(keys)
    received = _by_recipient(service.delivered)
    for message in messages:
        assert received[message.to_address].html == message.html


def test_postmark_refusing_every_message_for_one_reason_stops_the_send(
    fake_server: Callable[[Handler], FakeServer],
) -> None:
    service = _service("postmark", fake_server)
    messages = [dataclasses.replace(m, from_address="invalid-sender") for m in make_messages(3)]
    with pytest.raises(PermanentProviderError, match="From"):
        service.send(messages)


def test_calls_go_through_the_proxy_the_environment_names(
    fake_server: Callable[[Handler], FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake answers as the proxy would after passing the call on: the API's own host
    # name does not resolve, so only the proxy can have carried the call.
    api = FakePostmark()
    proxy = fake_server(api.handle)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    messages = make_messages(2)

    results = run(
        lambda: PostmarkProvider(TOKEN, base_url="http://api.postmark.invalid"),
        lambda provider: provider.send_batch(messages),
    )

    assert all(result.ok for result in results)
    assert [request.headers["host"] for request in proxy.requests] == ["api.postmark.invalid"]


def test_a_long_list_unsubscribe_reaches_the_api_whole_and_unencoded(service: Service) -> None:
    """The APIs build the MIME themselves: they must get the one-line value, never a
    folded or RFC 2047-encoded one (finding 1 of issue 14)."""
    base = "https://neuigkeiten.gemeinsam-fuer-das-quartier.vernetzungsinitiative-beispielstadt"
    messages = []
    for message in make_messages(2):
        token = f"MQ.{'HVdRVWUdT41ryRpuPfcTbHRoExg' * 2}{message.delivery_id}"
        value = (
            f"<{base}.example.org/unsubscribe/{token}>, "
            f"<mailto:abmelden@news.example.org?subject=unsubscribe%20{token}>"
        )
        headers = {**message.headers, "List-Unsubscribe": value}
        messages.append(dataclasses.replace(message, headers=headers))
    assert all(r.ok for r in service.send(messages))
    received = _by_recipient(service.delivered)
    for message in messages:
        got = received[message.to_address].headers["List-Unsubscribe"]
        assert got == message.headers["List-Unsubscribe"] and "=?" not in got
