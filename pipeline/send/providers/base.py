"""The Provider interface: the dispatcher's one seam to a mail service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pipeline.send.message import OutgoingMessage, SendResult


class Provider(Protocol):
    name: str
    max_batch: int
    """How many messages one `send_batch` call takes, by the API's documented limit."""
    deduplicates_retries: bool
    """True where the API itself drops a repeated call (Brevo's idempotency key), so a
    message caught mid-send by a crash can be sent again without a duplicate."""

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Hand the messages to the service; one result per message, in order.

        A result with `error` set is a permanent failure of that one message (say, an
        invalid address). Raises RetryableProviderError when the whole call may be retried
        (429, 5xx, timeouts), and PermanentProviderError when the send must stop (bad
        credentials, rejected content).
        """
        ...

    async def close(self) -> None: ...


@runtime_checkable
class SettlingProvider(Protocol):
    """A provider that can be asked afterwards which messages it accepted."""

    async def find_accepted(self, messages: Sequence[OutgoingMessage]) -> dict[int, str]:
        """Map delivery_id -> provider message id for each message the service accepted,
        found by `delivery_key` (Postmark metadata search, Mailgun events by user-variables)."""
        ...
