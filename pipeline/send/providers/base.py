"""The Provider interface: the dispatcher's one seam to a mail service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipeline.send.message import OutgoingMessage, SendResult


class Provider(Protocol):
    name: str
    max_batch: int
    """How many messages one `send_batch` call takes, by the API's documented limit."""

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """Hand the messages to the service; one result per message, in order.

        Raises RetryableProviderError when the whole call may be retried, and
        PermanentProviderError when the send must stop.
        """
        ...

    async def close(self) -> None: ...
