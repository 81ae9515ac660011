"""The deliveries ledger: one row per (issue, subscriber), the record of who got what.

The unique (issue_id, subscriber_id) pair is what makes a send exactly-once and
resumable: a row moves pending -> sending -> sent | failed (or cancelled), each step
one transaction, and nothing is sent without its row first being claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import deliveries, issues, now
from pipeline.send.message import SendResult
from subscribers.schema import UtcDateTime, subscribers
from subscribers.store import active_ids


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    subscriber_id: int
    email: str
    name: str
    locale: str


def create_deliveries(connection: sa.Connection, issue_id: int, at: datetime) -> int:
    """One pending row per active subscriber, filled inside the database (no list in memory)."""
    audience = active_ids().subquery()
    connection.execute(
        sa.insert(deliveries).from_select(
            ["issue_id", "subscriber_id", "state", "attempts", "updated_at"],
            sa.select(
                sa.literal(issue_id),
                audience.c.id,
                sa.literal("pending"),
                sa.literal(0),
                sa.literal(at, UtcDateTime()),
            ),
        )
    )
    # Counted afterwards: drivers disagree on the rowcount of INSERT ... SELECT.
    created: int = connection.execute(
        sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.issue_id == issue_id)
    ).scalar_one()
    return created


def claim_batch(engine: sa.Engine, issue_id: int, size: int) -> list[Recipient]:
    """Mark up to `size` pending rows as sending and return them with their addresses."""
    with engine.begin() as connection:
        pending = (
            sa.select(deliveries.c.id)
            .where(deliveries.c.issue_id == issue_id, deliveries.c.state == "pending")
            .order_by(deliveries.c.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        ids = list(connection.execute(pending).scalars())
        if not ids:
            return []
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(ids))
            .values(state="sending", attempts=deliveries.c.attempts + 1, updated_at=now())
        )
        rows = connection.execute(
            sa.select(
                deliveries.c.id,
                deliveries.c.subscriber_id,
                subscribers.c.email,
                subscribers.c.name,
                subscribers.c.locale,
            )
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.id)
        ).all()
    return [Recipient(row.id, row.subscriber_id, row.email, row.name, row.locale) for row in rows]


def record_results(engine: sa.Engine, results: Sequence[SendResult]) -> None:
    at = now()
    with engine.begin() as connection:
        sent = [r for r in results if r.ok]
        if sent:
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == sa.bindparam("delivery"))
                .values(state="sent", provider_message_id=sa.bindparam("message"), updated_at=at),
                [{"delivery": r.delivery_id, "message": r.provider_message_id} for r in sent],
            )
        failed = [r for r in results if not r.ok]
        if failed:
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == sa.bindparam("delivery"))
                .values(state="failed", error=sa.bindparam("reason"), updated_at=at),
                [{"delivery": r.delivery_id, "reason": r.error} for r in failed],
            )


def counts(connection: sa.Connection, issue_id: int) -> dict[str, int]:
    rows = connection.execute(
        sa.select(deliveries.c.state, sa.func.count())
        .where(deliveries.c.issue_id == issue_id)
        .group_by(deliveries.c.state)
    ).all()
    return {state: count for state, count in rows}


def finish_if_done(engine: sa.Engine, issue_id: int) -> bool:
    """Close the issue once no row is pending or sending; returns whether it is closed."""
    with engine.begin() as connection:
        open_rows = connection.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(
                deliveries.c.issue_id == issue_id, deliveries.c.state.in_(("pending", "sending"))
            )
        ).scalar_one()
        if open_rows:
            return False
        connection.execute(
            sa.update(issues)
            .where(issues.c.id == issue_id, issues.c.state == "sending")
            .values(state="sent", finished_at=now())
        )
    return True


def cancel_pending_deliveries(connection: sa.Connection, subscriber_id: int) -> int:
    """Cancel the subscriber's deliveries not yet handed to the provider; returns how many.

    Called in the same transaction as an unsubscribe or a suppression, so a send that is
    running claims none of them afterwards (a claim only takes pending rows).
    """
    result = connection.execute(
        sa.update(deliveries)
        .where(deliveries.c.subscriber_id == subscriber_id, deliveries.c.state == "pending")
        .values(state="cancelled", updated_at=now())
    )
    return result.rowcount
