"""Brevo: `POST /v3/smtp/email` with one messageVersion per recipient (1,000 versions a call).

The variant's HTML and text go once per call with `{{params.…}}` tags. Brevo's published
schema has headers only at the top of the request, but the API also takes `headers` per
message version (django-anymail's Brevo backend sends per-recipient List-Unsubscribe that
way); `provider.max_batch: 1` sends each message on its own with top-level headers.
Each message carries its delivery key in `X-Mailin-custom`, which Brevo's webhooks echo.

`headers.idempotencyKey` (a UUID, derived from the call's delivery keys) makes Brevo drop a
repeated call, so a retry or an at-least-once resume sends nothing twice:
https://developers.brevo.com/docs/heterogenous-versions-batch-emails
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers.http import (
    ApiClient,
    Reply,
    json_body,
    json_bytes,
    post_json,
    raise_for_call,
)
from pipeline.send.providers.merge import (
    chunked_by_size,
    html_and_text,
    one_by_one,
    per_variant,
    recipient_values,
)
from pipeline.send.providers.safety import without_bad_headers

SERVICE = "Brevo"
BASE_URL = "https://api.brevo.com/v3"
MAX_BATCH = 1000
"""Versions per call (batch-send guide); the spec's 2,000 recipients with one recipient each."""
MAX_PARAMS_BYTES = 900_000
"""Brevo: "cumulative params shall not exceed 1000 KB" a call (100 KB a version)."""
NAME_LIMIT = 70
"""The spec: "Maximum allowed characters are 70" for a recipient's name."""
_KEY_NAMESPACE = uuid.UUID("8f0f5a2e-3a57-4d55-9a36-6a4c0c1d7b21")
_ALREADY_SENT = {"duplicate_parameter", "duplicate_request"}


def tag(key: str) -> str:
    return "{{params." + key + "}}"


def by_params_size(messages: list[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """Calls whose versions' params stay under Brevo's cap (UTF-8 bytes, with headroom)."""
    return chunked_by_size(messages, _params_size, MAX_PARAMS_BYTES)


def _params_size(message: OutgoingMessage) -> int:
    return sum(len(k) + 2 * len(v) + 8 for k, v in recipient_values(message).items())


def idempotency_key(messages: Sequence[OutgoingMessage]) -> str:
    return str(uuid.uuid5(_KEY_NAMESPACE, ",".join(m.delivery_key for m in messages)))


CUSTOM_HEADER = "X-Mailin-custom"


def _headers(message: OutgoingMessage) -> dict[str, str]:
    return {**message.headers, CUSTOM_HEADER: message.delivery_key}


def _person(address: str, name: str) -> dict[str, str]:
    person = {"email": address}
    if name:
        person["name"] = name[:NAME_LIMIT]
    return person


def request_body(messages: Sequence[OutgoingMessage]) -> dict[str, object]:
    first = messages[0]
    body: dict[str, object] = {
        "sender": _person(first.from_address, first.from_name),
        "subject": first.subject,
    }
    if first.reply_to:
        body["replyTo"] = {"email": first.reply_to}
    key = {"idempotencyKey": idempotency_key(messages)}
    if len(messages) == 1:
        body |= {
            "to": [_person(first.to_address, first.to_name)],
            "htmlContent": first.html,
            "textContent": first.text,
            "headers": {**_headers(first), **key},
        }
        return body
    html, text = html_and_text(first, tag)
    body |= {
        "htmlContent": html,
        "textContent": text,
        "headers": key,
        "messageVersions": [
            {
                "to": [_person(message.to_address, message.to_name)],
                "params": recipient_values(message),
                "headers": _headers(message),
            }
            for message in messages
        ],
    }
    return body


def refuses_recipient(answer: object) -> bool:
    """A 400 about a recipient's address (not the sender, not the content)."""
    if not isinstance(answer, dict) or answer.get("code") != "invalid_parameter":
        return False
    text = str(answer.get("message", "")).lower()
    return "email" in text and "sender" not in text


class BrevoProvider:
    name = "brevo"
    deduplicates_retries = True

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        max_batch: int | None = None,
        timeout_s: float = 30,
    ):
        self.max_batch = max_batch or MAX_BATCH
        if self.max_batch > MAX_BATCH:
            raise ValueError(f"provider.max_batch: Brevo takes at most {MAX_BATCH}")
        self.client = ApiClient(base_url or BASE_URL, {"api-key": token}, timeout_s)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(
            messages, lambda checked: per_variant(checked, self._send_variant, by_params_size)
        )

    async def _send_variant(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        response = await self._post(messages)
        answer = json_body(response)
        code = answer.get("code") if isinstance(answer, dict) else None
        if response.status_code == 400 and code in _ALREADY_SENT:
            # The idempotency key was seen: this very call went through before.
            return [SendResult(message.delivery_id) for message in messages]
        if response.status_code == 400 and refuses_recipient(answer):
            if len(messages) == 1:
                reason = f"Brevo: {answer.get('message') if isinstance(answer, dict) else answer}"
                return [SendResult(messages[0].delivery_id, error=reason)]
            # A refused address refuses the whole call (nothing sent): find it one by one.
            return await one_by_one(SERVICE, messages, self._send_variant)
        raise_for_call(SERVICE, response)
        ids: list[object] = []
        if isinstance(answer, dict):
            many = answer.get("messageIds")
            ids = many if isinstance(many, list) else [answer.get("messageId")]
        return [
            SendResult(m.delivery_id, str(ids[i]) if i < len(ids) and ids[i] else None)
            for i, m in enumerate(messages)
        ]

    async def _post(self, messages: Sequence[OutgoingMessage]) -> Reply:
        return await post_json(
            self.client, SERVICE, "smtp/email", json_bytes(request_body(messages))
        )

    async def close(self) -> None:
        await self.client.aclose()
