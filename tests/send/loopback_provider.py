"""A Provider for the loopback mail service (tests/send/loopback_server.py).

`template` mode sends the variant's HTML once per call and only each reader's values (as
SendGrid, Mailgun and Brevo do); `full` mode sends the whole body of every message (as
Postmark without templates, SES and SMTP do). Errors are classified as the real
providers classify them: 429 and 5xx, timeouts and dropped connections are retryable,
401 and 400 are permanent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from pipeline.errors import PermanentProviderError, RetryableProviderError
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers import postmark
from pipeline.send.providers.http import ApiClient, json_bytes, post_json
from pipeline.send.providers.merge import chunked_by_size, in_calls


class LoopbackProvider:
    name = "loopback"
    deduplicates_retries = False

    def __init__(
        self, base_url: str, *, mode: str = "template", max_batch: int = 500, timeout_s: float = 5
    ):
        self.mode = mode
        self.max_batch = max_batch
        # The real providers' client and JSON encoding, so bench/send.py measures them.
        self.client = ApiClient(base_url, {}, timeout_s)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        if self.mode == "template":
            return await self._send_call(messages)
        # Full bodies go in calls of at most 10 MB, as Postmark's do.
        calls = chunked_by_size(messages, OutgoingMessage.json_size, postmark.MAX_CALL_BYTES)
        return await in_calls(messages, calls, self._send_call)

    async def _send_call(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        reply = await self._post("/batch", json_bytes(self._body(messages)))
        results = []
        for message, result in zip(messages, reply["results"], strict=True):
            if "error" in result:
                results.append(SendResult(message.delivery_id, error=result["error"]))
            else:
                results.append(SendResult(message.delivery_id, provider_message_id=result["id"]))
        return results

    def _body(self, messages: Sequence[OutgoingMessage]) -> dict[str, Any]:
        if self.mode == "template":
            templates = {
                m.variant.key: {
                    "subject": m.variant.subject,
                    "html": "%%".join(m.variant.html.chunks),
                    "text": "%%".join(m.variant.text.chunks),
                }
                for m in messages
            }
            return {"templates": templates, "messages": [_values(m) for m in messages]}
        return {"templates": None, "messages": [_full(m) for m in messages]}

    async def _post(self, path: str, body: bytes) -> dict[str, Any]:
        response = await post_json(self.client, "loopback", path, body)
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After")
            raise RetryableProviderError(
                f"loopback answered {response.status_code}",
                retry_after_s=float(retry_after) if retry_after else None,
            )
        reply: dict[str, Any] = orjson.loads(response.content)
        if response.status_code != 200:
            raise PermanentProviderError(
                f"loopback answered {response.status_code}: {reply['error']}"
            )
        return reply

    async def close(self) -> None:
        await self.client.aclose()


class SettlingLoopbackProvider(LoopbackProvider):
    """The same service, asked after a crash which messages it accepted."""

    async def find_accepted(self, messages: Sequence[OutgoingMessage]) -> dict[int, str]:
        by_key = {m.delivery_key: m.delivery_id for m in messages}
        reply = await self._post("/accepted", json_bytes({"keys": list(by_key)}))
        return {by_key[key]: provider_id for key, provider_id in reply["accepted"].items()}


def _values(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "key": message.delivery_key,
        "to": message.to_address,
        "message_id": message.message_id,
        "headers": message.headers,
        "template": message.variant.key,
        "values": message.values,
    }


def _full(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "key": message.delivery_key,
        "to": message.to_address,
        "message_id": message.message_id,
        "headers": message.headers,
        "subject": message.subject,
        "html": orjson.Fragment(message.html_json()),
        "text": orjson.Fragment(message.text_json()),
    }
