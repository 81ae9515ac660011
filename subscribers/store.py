"""Reading and writing subscribers; every state change is logged with its cause."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from subscribers.addresses import normalise_address
from subscribers.schema import subscriber_events, subscribers

CONSENT_SOURCES = ("form", "import", "admin")


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    locale: str
    topics: tuple[str, ...]
    state: str


@dataclass(frozen=True)
class Consent:
    source: str
    detail: str
    at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _row_to_subscriber(row: sa.Row[tuple[object, ...]]) -> Subscriber:
    mapping = row._mapping
    return Subscriber(
        id=mapping["id"],
        email=mapping["email"],
        name=mapping["name"],
        locale=mapping["locale"],
        topics=tuple(mapping["topics"] or ()),
        state=mapping["state"],
    )


def find(connection: sa.Connection, email: str) -> Subscriber | None:
    row = connection.execute(
        sa.select(subscribers).where(subscribers.c.email == normalise_address(email))
    ).first()
    return None if row is None else _row_to_subscriber(row)


def add(
    connection: sa.Connection,
    *,
    email: str,
    name: str = "",
    locale: str = "de",
    topics: Sequence[str] = (),
    state: str = "pending",
    consent: Consent,
) -> Subscriber:
    """Insert a new subscriber; the caller checks that the address is not known yet."""
    moment = _now()
    subscriber_id = connection.execute(
        sa.insert(subscribers)
        .values(
            email=normalise_address(email),
            name=name,
            locale=locale,
            topics=list(topics),
            state=state,
            consent_at=consent.at,
            consent_source=consent.source,
            consent_detail=consent.detail,
            created_at=moment,
            updated_at=moment,
        )
        .returning(subscribers.c.id)
    ).scalar_one()
    _log_event(connection, subscriber_id, state, f"added ({consent.source}: {consent.detail})")
    found = find(connection, email)
    assert found is not None
    return found


def set_state(connection: sa.Connection, subscriber_id: int, state: str, cause: str) -> None:
    connection.execute(
        sa.update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(state=state, updated_at=_now())
    )
    _log_event(connection, subscriber_id, state, cause)


def _log_event(connection: sa.Connection, subscriber_id: int, state: str, cause: str) -> None:
    connection.execute(
        sa.insert(subscriber_events).values(
            subscriber_id=subscriber_id, at=_now(), state=state, cause=cause
        )
    )


def active_ids() -> sa.Select[tuple[int]]:
    """The audience of a send as a query, so the ledger can be filled in the database."""
    return sa.select(subscribers.c.id).where(subscribers.c.state == "active")


def iter_all(connection: sa.Connection) -> Iterator[Subscriber]:
    result = connection.execute(sa.select(subscribers).order_by(subscribers.c.id))
    for row in result:
        yield _row_to_subscriber(row)
