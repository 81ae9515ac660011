"""SendGrid v3: `POST /v3/mail/send` with one personalization per recipient (1,000 a call).

The variant's HTML and text go once per call with substitution tags; each personalization
carries the recipient's values, its own List-Unsubscribe headers (SendGrid takes headers
per personalization: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send)
and the delivery key in `custom_args`, which event webhooks echo back.
"""

from __future__ import annotations

import re
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
from pipeline.send.providers.merge import html_and_text, per_variant, recipient_values
from pipeline.send.providers.safety import without_bad_headers

SERVICE = "SendGrid"
BASE_URL = "https://api.sendgrid.com"
MAX_BATCH = 1000
"""Personalizations per request (the spec's `maxItems: 1000`)."""
_RECIPIENT_FIELD = re.compile(r"^personalizations\.(\d+)\.to\.")


def tag(key: str) -> str:
    return f"-{key}-"


def personalization(message: OutgoingMessage) -> dict[str, object]:
    to: dict[str, str] = {"email": message.to_address}
    if message.to_name:
        to["name"] = message.to_name
    return {
        "to": [to],
        "headers": message.headers,  # encoded as it is, never changed
        "substitutions": recipient_values(message, tag),
        "custom_args": {"delivery_key": message.delivery_key},
    }


def request_body(messages: Sequence[OutgoingMessage]) -> dict[str, object]:
    first = messages[0]
    html, text = html_and_text(first, tag)
    body: dict[str, object] = {
        "personalizations": [personalization(message) for message in messages],
        "from": {"email": first.from_address, "name": first.from_name},
        "subject": first.subject,
        "content": [{"type": "text/plain", "value": text}, {"type": "text/html", "value": html}],
    }
    if first.reply_to:
        body["reply_to"] = {"email": first.reply_to}
    return body


def refused_recipients(response: Reply) -> dict[int, str] | None:
    """Index -> reason when a 400 names only recipients' addresses, else None."""
    answer = json_body(response)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list) or not errors:
        return None
    refused: dict[int, str] = {}
    for error in errors:
        match = (
            _RECIPIENT_FIELD.match(str(error.get("field") or ""))
            if isinstance(error, dict)
            else None
        )
        if match is None:
            return None
        refused[int(match.group(1))] = f"SendGrid: {error.get('message', 'address refused')}"
    return refused


class SendGridProvider:
    name = "sendgrid"
    deduplicates_retries = False

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
            raise ValueError(f"provider.max_batch: SendGrid takes at most {MAX_BATCH}")
        self.client = ApiClient(
            base_url or BASE_URL, {"Authorization": f"Bearer {token}"}, timeout_s
        )

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(
            messages, lambda checked: per_variant(checked, self._send_variant)
        )

    async def _send_variant(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        response = await self._post(messages)
        if response.status_code == 400 and (refused := refused_recipients(response)):
            # One bad address refuses the whole call: report it, send the others.
            results = {
                messages[index].delivery_id: SendResult(messages[index].delivery_id, error=reason)
                for index, reason in refused.items()
                if index < len(messages)
            }
            rest = [message for message in messages if message.delivery_id not in results]
            if rest:
                response = await self._post(rest)
                raise_for_call(SERVICE, response)
                message_id = response.headers.get("X-Message-Id")
                results |= {m.delivery_id: SendResult(m.delivery_id, message_id) for m in rest}
            return [results[message.delivery_id] for message in messages]
        raise_for_call(SERVICE, response)
        # One X-Message-Id per call; events tell recipients apart by custom_args.delivery_key.
        message_id = response.headers.get("X-Message-Id")
        return [SendResult(message.delivery_id, message_id) for message in messages]

    async def _post(self, messages: Sequence[OutgoingMessage]) -> Reply:
        return await post_json(
            self.client, SERVICE, "/v3/mail/send", json_bytes(request_body(messages))
        )

    async def close(self) -> None:
        await self.client.aclose()
