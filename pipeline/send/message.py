"""One outgoing message, provider-agnostic: what every Provider is handed.

A message keeps its body as the issue variant's pre-split template plus this reader's
values. Providers that send a full body per message read `html` and `text`; providers
whose API substitutes per-recipient values itself (SendGrid personalizations, Mailgun
recipient-variables, Brevo params) group messages by `variant` and send the template
once per call with only `values` per recipient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pipeline.render.personalize import Personalizable, html_values


@dataclass(frozen=True)
class BodyTemplate:
    """One issue variant's subject and bodies, shared by every message of that variant."""

    key: str
    subject: str
    html: Personalizable
    text: Personalizable


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: int
    delivery_key: str
    """Stable across retries and restarts (`<issue number>-<delivery id>`): provider metadata,
    idempotency keys and settlement after a crash use it."""
    to_address: str
    to_name: str
    from_address: str
    from_name: str
    reply_to: str | None
    variant: BodyTemplate
    values: dict[str, str]
    """This reader's values for the variant's placeholders, unescaped."""
    message_id: str
    """`<...@sender-domain>`, stable for a delivery, so a retried message keeps its identity."""
    envelope_from: str
    """The SMTP envelope sender (MAIL FROM, the outbox's Return-Path), where bounces go:
    the delivery's VERP address `bounces+TOKEN@domain` when `bounces.address` is set (the
    bare address with `bounces.verp: false`), else the sender address. Services with an
    HTTP API use their own and handle bounces."""
    headers: dict[str, str] = field(default_factory=dict)
    """Per-reader headers: List-Unsubscribe, List-Unsubscribe-Post, and the like."""

    @property
    def subject(self) -> str:
        return self.variant.subject

    @cached_property
    def html(self) -> str:
        return self.variant.html.fill(html_values(self.values))

    @cached_property
    def text(self) -> str:
        return self.variant.text.fill(self.values)

    def html_json(self) -> bytes:
        """`html` encoded as a JSON string, for APIs that take a whole body per message.
        Made when a request body is, and not kept: a batch of 500 would hold 40 MB."""
        return self.variant.html.fill_json(html_values(self.values))

    def text_json(self) -> bytes:
        return self.variant.text.fill_json(self.values)

    def json_size(self) -> int:
        """About the bytes this message adds to a JSON request body: its bodies, and room
        for the values, addresses and headers."""
        return self.variant.html.json_length + self.variant.text.json_length + 2_000


@dataclass(frozen=True)
class SendResult:
    delivery_id: int
    provider_message_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
