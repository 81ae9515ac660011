"""Postmark: `POST /email/batch` (500 messages a call), full body per message, broadcast stream.

Postmark fills in nothing per recipient outside its stored templates, so each message
carries its own HTML, text and List-Unsubscribe header. The delivery key rides in
`Metadata`, which the outbound message search can filter on after a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from email.utils import formataddr

import orjson

from pipeline.errors import PermanentProviderError
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers.http import (
    ApiClient,
    json_body,
    json_bytes,
    post_json,
    raise_for_call,
    request,
    sender_mailbox,
)
from pipeline.send.providers.merge import chunked_by_size, in_calls
from pipeline.send.providers.safety import without_bad_headers

SERVICE = "Postmark"
BASE_URL = "https://api.postmarkapp.com"
MAX_BATCH = 500
MAX_CALL_BYTES = 5_000_000
"""Postmark takes 500 messages and 50 MB a call (10 MB a message):
https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
A call in flight is held about twice over while it goes out: calls of 5 MB kept a full-body
send at 168 MB, where 10 MB took 222 MB, at the same throughput (bench/send.py, full mode);
the upload takes as long either way."""
INACTIVE = 406
RECIPIENT_ERRORS = {300, INACTIVE}
"""300 invalid email request (a bad address), 406 inactive recipient (bounced or spam)."""
SEARCH_CONCURRENCY = 8


def message_body(message: OutgoingMessage, stream: str) -> dict[str, object]:
    body: dict[str, object] = {
        "From": sender_mailbox(message.from_name, message.from_address),
        "To": formataddr((message.to_name, message.to_address)),
        "Subject": message.subject,
        "HtmlBody": orjson.Fragment(message.html_json()),
        "TextBody": orjson.Fragment(message.text_json()),
        "MessageStream": stream,
        "Headers": [{"Name": name, "Value": value} for name, value in message.headers.items()],
        "Metadata": {"delivery_key": message.delivery_key},
    }
    if message.reply_to:
        body["ReplyTo"] = message.reply_to
    return body


def by_size(messages: Sequence[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """Calls of at most MAX_CALL_BYTES of JSON."""
    return chunked_by_size(messages, OutgoingMessage.json_size, MAX_CALL_BYTES)


class PostmarkProvider:
    name = "postmark"
    deduplicates_retries = False

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        max_batch: int | None = None,
        message_stream: str = "broadcast",
        timeout_s: float = 30,
    ):
        self.max_batch = max_batch or MAX_BATCH
        if self.max_batch > MAX_BATCH:
            raise ValueError(f"provider.max_batch: Postmark takes at most {MAX_BATCH}")
        self.message_stream = message_stream
        self.client = ApiClient(base_url or BASE_URL, {"X-Postmark-Server-Token": token}, timeout_s)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(messages, self._send_checked)

    async def _send_checked(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await in_calls(messages, by_size(messages), self._send_call)

    async def _send_call(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        if self.max_batch == 1 and len(messages) == 1:
            body = json_bytes(message_body(messages[0], self.message_stream))
            response = await post_json(self.client, SERVICE, "/email", body)
            answer = json_body(response)
            code = answer.get("ErrorCode") if isinstance(answer, dict) else None
            if response.status_code != 422 or code not in RECIPIENT_ERRORS:
                raise_for_call(SERVICE, response)
            return self._results(messages, [answer])
        bodies = json_bytes([message_body(message, self.message_stream) for message in messages])
        response = await post_json(self.client, SERVICE, "/email/batch", bodies)
        raise_for_call(SERVICE, response)
        answers = json_body(response)
        return self._results(messages, answers if isinstance(answers, list) else [])

    def _results(
        self, messages: Sequence[OutgoingMessage], answers: list[object]
    ) -> list[SendResult]:
        results: list[SendResult] = []
        other_errors: set[str] = set()
        codes: set[object] = set()
        for index, message in enumerate(messages):
            answer = answers[index] if index < len(answers) else None
            if not isinstance(answer, dict):
                # Accepted (2xx) without a readable per-message answer.
                results.append(SendResult(message.delivery_id))
                continue
            code = answer.get("ErrorCode", 0)
            if code == 0:
                results.append(SendResult(message.delivery_id, str(answer.get("MessageID"))))
                continue
            codes.add(code)
            reason = f"Postmark ErrorCode {code}: {answer.get('Message', '')}"
            if code not in RECIPIENT_ERRORS:
                other_errors.add(reason)
            results.append(SendResult(message.delivery_id, error=reason))
        if all(not result.ok for result in results):
            reasons = {result.error or "" for result in results}
            # Every message refused, for a reason not about its recipient, or for the very
            # same reason (an address would be named): the sender, content or account.
            if other_errors or (len(results) > 1 and len(reasons) == 1 and INACTIVE not in codes):
                raise PermanentProviderError(f"{SERVICE}: {'; '.join(sorted(reasons))}")
        return results

    async def find_accepted(self, messages: Sequence[OutgoingMessage]) -> dict[int, str]:
        """Ask the outbound message search for each delivery key (metadata filter)."""
        limit = asyncio.Semaphore(SEARCH_CONCURRENCY)

        async def search(message: OutgoingMessage) -> tuple[int, str | None]:
            async with limit:
                response = await request(
                    self.client,
                    SERVICE,
                    "GET",
                    "/messages/outbound",
                    params={
                        "count": 1,
                        "offset": 0,
                        "metadata_delivery_key": message.delivery_key,
                    },
                )
            raise_for_call(SERVICE, response)
            answer = json_body(response)
            found = answer.get("Messages") if isinstance(answer, dict) else None
            if isinstance(found, list) and found and isinstance(found[0], dict):
                return message.delivery_id, str(found[0].get("MessageID"))
            return message.delivery_id, None

        pairs = await asyncio.gather(*(search(message) for message in messages))
        return {delivery_id: found for delivery_id, found in pairs if found is not None}

    async def close(self) -> None:
        await self.client.aclose()
