"""The deliveries ledger: one row per (issue, subscriber), the record of who got what.

The unique (issue_id, subscriber_id) pair is what makes a send exactly-once and
resumable: a row moves pending -> sending -> sent | failed (or cancelled), each step
one transaction, and nothing is sent without its row first being claimed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

import orjson
import sqlalchemy as sa

from pipeline.db import deliveries, issues, now
from pipeline.send import bulk
from pipeline.send.message import SendResult
from subscribers.schema import UtcDateTime, subscribers
from subscribers.store import active_ids

LEASE_S = 60.0
"""How long a claimed row stays another live worker's before it may be taken over."""
PROCESS_OWNER = f"{socket.gethostname()}:{os.getpid()}"


class Recipient(NamedTuple):
    """One claimed row and its reader. A tuple: a send makes one per reader."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str
    locale: str
    topics: tuple[str, ...] = ()
    stats_consent: bool = False
    """The reader agreed to personalised statistics: their click token names them."""


def create_deliveries(connection: sa.Connection, issue_id: int, at: datetime) -> int:
    """One pending row per active subscriber, filled inside the database (no list in memory).

    The rows are numbered one language's readers after another (in sign-up order within
    each): a claim takes pending rows in id order, and one API call carries one variant's readers
    (its body goes once per call), so a claim of mixed variants would become several
    part-filled calls (SendGrid got 800 German and 200 English readers a call, not 1,000).
    Only the speed rests on the order; which variant a reader gets is decided when the
    message is composed.
    """
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
            )
            .join(subscribers, subscribers.c.id == audience.c.id)
            .order_by(subscribers.c.locale, audience.c.id),
        )
    )
    # Counted afterwards: drivers disagree on the rowcount of INSERT ... SELECT.
    created: int = connection.execute(
        sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.issue_id == issue_id)
    ).scalar_one()
    return created


def claim_batch(
    engine: sa.Engine,
    issue_id: int,
    size: int,
    *,
    owner: str = PROCESS_OWNER,
    lease_s: float = LEASE_S,
) -> list[Recipient]:
    """Mark up to `size` pending rows as sending under a lease; return them with addresses.

    One UPDATE takes the rows: PostgreSQL skips rows another worker has locked, SQLite
    holds its write lock for the statement. Only this batch is read, never the audience.
    """
    at = now()
    with _durable(engine) as connection:
        pending = (
            sa.select(deliveries.c.id)
            .where(deliveries.c.issue_id == issue_id, deliveries.c.state == "pending")
            .order_by(deliveries.c.id)
            .limit(size)
            .with_for_update(skip_locked=True)
            # A CTE is run once; a plain subquery with LIMIT may be re-run by the planner
            # and take more rows than asked for.
            .cte("claimed")
        )
        ids = (
            connection.execute(
                sa.update(deliveries)
                .where(
                    deliveries.c.id.in_(sa.select(pending.c.id)), deliveries.c.state == "pending"
                )
                .values(
                    state="sending",
                    attempts=deliveries.c.attempts + 1,
                    lease_owner=owner,
                    lease_expires_at=at + timedelta(seconds=lease_s),
                    updated_at=at,
                )
                .returning(deliveries.c.id)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        return recipients(connection, ids)


@contextmanager
def _durable(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that is on disk when it commits, even on SQLite with synchronous=NORMAL:
    a claim lost to a power cut would let a sent message be claimed and sent again."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA synchronous=FULL")
            connection.commit()
        try:
            with connection.begin():
                yield connection
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
                connection.commit()


def recipients(connection: sa.Connection, ids: Sequence[int]) -> list[Recipient]:
    dialect = connection.dialect.name
    rows = connection.execute(_statements(dialect).recipients, bulk.id_list_params(dialect, ids))
    return [
        Recipient(delivery_id, subscriber_id, email, name, locale, _topics(topics), consent)
        for delivery_id, subscriber_id, email, name, locale, topics, consent in rows
    ]


def _topics(stored: str | None) -> tuple[str, ...]:
    if not stored or stored == "[]":
        return ()
    return tuple(orjson.loads(stored))


def retry_claimed(
    engine: sa.Engine, ids: Sequence[int], wait_s: float, lease_s: float = LEASE_S
) -> set[int]:
    """Count one more attempt and stretch the lease over the wait; returns the ids still
    ours to send (a row cancelled meanwhile is dropped from the retry)."""
    at = now()
    with engine.begin() as connection:
        return set(
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id.in_(ids), deliveries.c.state == "sending")
                .values(
                    attempts=deliveries.c.attempts + 1,
                    lease_expires_at=at + timedelta(seconds=wait_s + lease_s),
                    updated_at=at,
                )
                .returning(deliveries.c.id)
            ).scalars()
        )


def release(engine: sa.Engine, ids: Sequence[int]) -> None:
    """Give claimed rows back, for a call the provider refused outright (nothing was sent)."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(ids), deliveries.c.state == "sending")
            .values(state="pending", lease_owner=None, lease_expires_at=None, updated_at=now())
        )


def record_results(engine: sa.Engine, results: Sequence[SendResult]) -> None:
    """Write what the provider answered; a sent message is recorded as sent whatever its row
    says, because that is the truth about the reader's inbox."""
    dialect = engine.dialect.name
    statements = _statements(dialect)
    at = {"at": now()}
    sent = [(r.delivery_id, r.provider_message_id) for r in results if r.ok]
    failed = [(r.delivery_id, r.error) for r in results if not r.ok]
    with engine.begin() as connection:
        if sent:
            connection.execute(statements.sent, bulk.id_value_params(dialect, sent) | at)
        if failed:
            connection.execute(statements.failed, bulk.id_value_params(dialect, failed) | at)


class _Statements(NamedTuple):
    recipients: sa.Select[int, int, str, str, str, str | None, bool]
    sent: sa.Update
    failed: sa.Update


@cache
def _statements(dialect: str) -> _Statements:
    """The statements a send runs per batch, built once: building and caching one per call
    cost more than running it when every call carries one message."""
    recipients = (
        sa.select(
            deliveries.c.id,
            deliveries.c.subscriber_id,
            subscribers.c.email,
            subscribers.c.name,
            subscribers.c.locale,
            # As text: most readers chose no topics, and "[]" needs no JSON decoder.
            sa.cast(subscribers.c.topics, sa.Text),
            subscribers.c.stats_consent_at.is_not(None),
        )
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .where(deliveries.c.id.in_(bulk.id_list(dialect)))
        .order_by(deliveries.c.id)
    )
    cleared = {
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": sa.bindparam("at", type_=UtcDateTime()),
    }
    sent = bulk.id_value_rows(dialect)
    failed = bulk.id_value_rows(dialect)
    return _Statements(
        recipients,
        sa.update(deliveries)
        .where(deliveries.c.id == sent.c.id)
        .values(state="sent", provider_message_id=sent.c.value, **cleared),
        sa.update(deliveries)
        .where(deliveries.c.id == failed.c.id, deliveries.c.state == "sending")
        .values(state="failed", error=failed.c.value, **cleared),
    )


def failure_reasons(connection: sa.Connection, issue_id: int, limit: int = 3) -> list[str]:
    """The most common reasons of failed deliveries, with their counts, for the summary."""
    rows = connection.execute(
        sa.select(deliveries.c.error, sa.func.count().label("n"))
        .where(deliveries.c.issue_id == issue_id, deliveries.c.state == "failed")
        .group_by(deliveries.c.error)
        .order_by(sa.desc("n"))
        .limit(limit)
    ).all()
    return [f"{n} × {error}" for error, n in rows]


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


def active_claims(connection: sa.Connection) -> list[tuple[str, int, datetime]]:
    """(worker, rows it holds, when its lease runs out) for every process mid-send: the
    workers `status` shows."""
    rows = connection.execute(
        sa.select(
            deliveries.c.lease_owner,
            sa.func.count(),
            sa.func.max(deliveries.c.lease_expires_at),
        )
        .where(deliveries.c.state == "sending", deliveries.c.lease_owner.is_not(None))
        .group_by(deliveries.c.lease_owner)
        .order_by(deliveries.c.lease_owner)
    ).all()
    return [(owner, count, until) for owner, count, until in rows]
