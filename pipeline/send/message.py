"""One outgoing message, provider-agnostic: what every Provider is handed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: int
    to_address: str
    to_name: str
    from_address: str
    from_name: str
    reply_to: str | None
    subject: str
    html: str
    text: str
    message_id: str
    """`<...@sender-domain>`, stable for a delivery, so a retried message keeps its identity."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra headers: List-Unsubscribe, List-Unsubscribe-Post, and the like."""


@dataclass(frozen=True)
class SendResult:
    delivery_id: int
    provider_message_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
