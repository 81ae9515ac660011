"""What the mail services said of deliveries after the send: bounces and complaints, kept
on the delivery their webhook event names, for the per-issue reports.

An event names its delivery by the key the send put into the message
(`<issue number>-<delivery id>`), or else by the service's message id, which the ledger
keeps as `provider_message_id`. Either way the delivery must be the event's reader's: a
key that names someone else's delivery is not believed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from pipeline.db import MAX_ROW_ID, deliveries, delivery_events, issues


def find_delivery(
    connection: sa.Connection,
    subscriber_id: int,
    delivery_key: str | None,
    message_id: str | None,
) -> int | None:
    """The id of the reader's delivery that the key (or the message id) names, or None."""
    mine = deliveries.c.subscriber_id == subscriber_id
    ids = _ids_of(delivery_key)
    if ids is not None:
        number, delivery_id = ids
        query = (
            sa.select(deliveries.c.id)
            .join(issues, issues.c.id == deliveries.c.issue_id)
            .where(mine, deliveries.c.id == delivery_id, issues.c.number == number)
        )
        found = connection.execute(query).scalar_one_or_none()
        if found is not None:
            return int(found)
    if message_id is None:
        return None
    # Mailgun answers `<id>` and echoes `id`; the others use one form throughout.
    bare = message_id.strip().strip("<>")
    query = (
        sa.select(deliveries.c.id)
        .where(mine, deliveries.c.provider_message_id.in_([bare, f"<{bare}>"]))
        .order_by(deliveries.c.id.desc())
        .limit(1)
    )
    found = connection.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def record_event(
    connection: sa.Connection,
    delivery_id: int,
    provider: str,
    kind: str,
    detail: str,
    at: datetime,
) -> None:
    connection.execute(
        sa.insert(delivery_events).values(
            delivery_id=delivery_id, provider=provider, kind=kind, detail=detail, received_at=at
        )
    )


def events_of(connection: sa.Connection, delivery_id: int) -> list[dict[str, object]]:
    """The delivery's events, oldest first: kind, detail, provider and when it came."""
    rows = connection.execute(
        sa.select(delivery_events)
        .where(delivery_events.c.delivery_id == delivery_id)
        .order_by(delivery_events.c.id)
    ).all()
    return [
        {"kind": r.kind, "detail": r.detail, "provider": r.provider, "received_at": r.received_at}
        for r in rows
    ]


def _ids_of(delivery_key: str | None) -> tuple[int, int] | None:
    """The issue number and delivery id of a key `<number>-<id>`; None for a key past any
    row id, which names no delivery (and PostgreSQL would refuse the number)."""
    if delivery_key is None:
        return None
    number, _, delivery_id = delivery_key.partition("-")
    ids = int(number), int(delivery_id)
    return ids if max(ids) <= MAX_ROW_ID else None
