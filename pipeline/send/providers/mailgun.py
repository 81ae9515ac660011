"""Mailgun: `POST /v3/{domain}/messages`, multipart, 1,000 recipients with recipient-variables.

One call carries the variant's HTML and text once, with `%recipient.…%` tags; Mailgun
sends each address in `to` its own copy. Recipient variables are substituted in header
fields and other parameters too, so `h:List-Unsubscribe` and `v:delivery_key` are tags as
well (the approach django-anymail's Mailgun backend uses for per-recipient headers).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from email.utils import formataddr

from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers.http import (
    ApiClient,
    Reply,
    basic_auth,
    json_body,
    raise_for_call,
    request,
)
from pipeline.send.providers.merge import (
    html_and_text,
    one_by_one,
    per_variant,
    recipient_values,
)
from pipeline.send.providers.safety import without_bad_headers

SERVICE = "Mailgun"
BASE_URLS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
MAX_BATCH = 1000
"""https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/batch-sending"""
SEARCH_CONCURRENCY = 8


def tag(key: str) -> str:
    return f"%recipient.{key}%"


def header_key(name: str) -> str:
    return f"h:{name}"


def form_fields(messages: Sequence[OutgoingMessage]) -> list[tuple[str, str]]:
    first = messages[0]
    html, text = html_and_text(first, tag)
    variables: dict[str, dict[str, str]] = {}
    header_names: dict[str, None] = {}
    for message in messages:
        values = recipient_values(message)
        values["delivery_key"] = message.delivery_key
        for name, value in message.headers.items():
            values[header_key(name)] = value
            header_names[name] = None
        variables[message.to_address] = values
    fields = [
        ("from", formataddr((first.from_name, first.from_address))),
        ("to", ", ".join(formataddr((m.to_name, m.to_address)) for m in messages)),
        ("subject", first.subject),
        ("text", text),
        ("html", html),
        ("recipient-variables", json.dumps(variables, ensure_ascii=False)),
        ("v:delivery_key", tag("delivery_key")),
    ]
    fields += [(f"h:{name}", tag(header_key(name))) for name in header_names]
    if first.reply_to:
        fields.append(("h:Reply-To", first.reply_to))
    return fields


class MailgunProvider:
    name = "mailgun"
    deduplicates_retries = False

    def __init__(
        self,
        token: str,
        domain: str,
        *,
        region: str = "us",
        base_url: str | None = None,
        max_batch: int | None = None,
        timeout_s: float = 30,
    ):
        self.max_batch = max_batch or MAX_BATCH
        if self.max_batch > MAX_BATCH:
            raise ValueError(f"provider.max_batch: Mailgun takes at most {MAX_BATCH}")
        self.domain = domain
        self.client = ApiClient(base_url or BASE_URLS[region], basic_auth("api", token), timeout_s)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(
            messages, lambda checked: per_variant(checked, self._send_variant)
        )

    async def _send_variant(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        response = await self._post(messages)
        if response.status_code == 400 and "to parameter" in response.text.lower():
            if len(messages) == 1:
                return [
                    SendResult(messages[0].delivery_id, error=f"Mailgun: {response.text[:200]}")
                ]
            # A refused address refuses the whole call (nothing sent): find it one by one.
            return await one_by_one(SERVICE, messages, self._send_variant)
        raise_for_call(SERVICE, response)
        answer = json_body(response)
        message_id = str(answer.get("id")) if isinstance(answer, dict) else None
        # One id per call; events tell recipients apart by user-variables.delivery_key.
        return [SendResult(message.delivery_id, message_id) for message in messages]

    async def _post(self, messages: Sequence[OutgoingMessage]) -> Reply:
        # Multipart: Mailgun refuses urlencoded bodies of this size and shape.
        return await request(
            self.client, SERVICE, "POST", f"/v3/{self.domain}/messages", form=form_fields(messages)
        )

    async def find_accepted(self, messages: Sequence[OutgoingMessage]) -> dict[int, str]:
        """Search the events API for an `accepted` event carrying each delivery key.

        Events can take a little while to show up; a message accepted seconds before a
        crash may not be found yet.
        """
        limit = asyncio.Semaphore(SEARCH_CONCURRENCY)

        async def search(message: OutgoingMessage) -> tuple[int, str | None]:
            url: str | None = f"/v3/{self.domain}/events"
            params: dict[str, str] | None = {
                "event": "accepted",
                "user-variables": json.dumps({"delivery_key": message.delivery_key}),
                "limit": "300",
            }
            while url:
                async with limit:
                    response = await request(self.client, SERVICE, "GET", url, params=params)
                raise_for_call(SERVICE, response)
                answer = json_body(response)
                items = answer.get("items") if isinstance(answer, dict) else None
                if not isinstance(items, list) or not items:
                    return message.delivery_id, None
                for item in items:
                    variables = item.get("user-variables", {}) if isinstance(item, dict) else {}
                    if variables.get("delivery_key") == message.delivery_key:
                        found = item.get("message", {}).get("headers", {}).get("message-id")
                        return message.delivery_id, str(found or item.get("id"))
                paging = answer.get("paging") if isinstance(answer, dict) else None
                url = paging.get("next") if isinstance(paging, dict) else None
                params = None
            return message.delivery_id, None

        pairs = await asyncio.gather(*(search(message) for message in messages))
        return {delivery_id: found for delivery_id, found in pairs if found is not None}

    async def close(self) -> None:
        await self.client.aclose()
