"""Brevo's transactional webhook, secured by basic auth in the webhook URL.

One JSON event per request (a list is accepted too) with `event` and `email`:
`hard_bounce`, `invalid_email`, `soft_bounce`, `spam` (a complaint). Brevo echoes the
message's `X-Mailin-custom` header, where the send puts the delivery key, and its
`message-id`, which the ledger keeps too.
"""

from __future__ import annotations

from typing import Any

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    Verified,
    WebhookRequest,
    WebhookSettings,
    check_basic_auth,
    event_id_of,
    key_of,
    parse_json,
    text_of,
)

KINDS: dict[str, BounceKind] = {
    "hard_bounce": "hard",
    "invalid_email": "hard",
    "soft_bounce": "soft",
    "spam": "complaint",
    "complaint": "complaint",
}


def _event_id(record: dict[str, Any]) -> str | None:
    """Brevo names no event id (its `id` is the webhook's): the message, the event, the
    time it happened and the address tell one event from another."""
    parts = [
        record.get("message-id"),
        record.get("event"),
        record.get("ts_event"),
        record.get("email"),
    ]
    if any(part is None for part in parts):
        return event_id_of(None, record)
    return "/".join(str(part) for part in parts)[:200]


def read(request: WebhookRequest, settings: WebhookSettings) -> Verified:
    check_basic_auth(request, settings)
    payload = parse_json(request.body)
    records: list[Any] = payload if isinstance(payload, list) else [payload]
    events = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("email"), str):
            raise BadPayload("expected a Brevo event with an `email`")
        kind = KINDS.get(str(record.get("event")))
        if kind is not None:
            detail = f"brevo {text_of(record['event'])}: {text_of(record.get('reason'))}"
            events.append(
                BounceEvent(
                    record["email"],
                    kind,
                    detail[:400],
                    _event_id(record),
                    delivery_key=key_of(record.get("X-Mailin-custom")),
                    message_id=text_of(record.get("message-id"), 300) or None,
                )
            )
    return Verified(events)
