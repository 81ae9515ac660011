"""Brevo's transactional webhook, secured by basic auth in the webhook URL.

One JSON event per request (a list is accepted too) with `event` and `email`:
`hard_bounce`, `invalid_email`, `soft_bounce`, `spam` (a complaint).
"""

from __future__ import annotations

from typing import Any

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    WebhookRequest,
    WebhookSettings,
    check_basic_auth,
    parse_json,
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
        return None
    return "/".join(str(part) for part in parts)[:200]


def read(request: WebhookRequest, settings: WebhookSettings) -> list[BounceEvent]:
    check_basic_auth(request, settings)
    payload = parse_json(request.body)
    records: list[Any] = payload if isinstance(payload, list) else [payload]
    events = []
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("email"), str):
            raise BadPayload("expected a Brevo event with an `email`")
        kind = KINDS.get(str(record.get("event")))
        if kind is not None:
            detail = f"brevo {record['event']}: {record.get('reason', '')}"
            events.append(BounceEvent(record["email"], kind, detail[:400], _event_id(record)))
    return events
