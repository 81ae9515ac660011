"""Reading and writing subscribers; every state change is logged with its cause."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from subscribers import bulk, suppression
from subscribers.addresses import normalise_address
from subscribers.schema import (
    SUBSCRIBER_STATES,
    soft_bounce_events,
    subscriber_events,
    subscribers,
    suppressions,
)

CONSENT_SOURCES = ("form", "import", "admin")
"""The sources besides `api:<token name>`, a sign-up through the API."""


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
    text_version: str | None = None
    """Which version of the sign-up form's consent text the person agreed to."""
    ip: str | None = None
    """The address the form was sent from (form sign-ups only)."""


@dataclass(frozen=True)
class StatsConsent:
    """The separate, optional consent to personalised statistics: when, and to which text."""

    at: datetime
    text_version: str


@dataclass(frozen=True, slots=True)
class NewSubscriber:
    """A subscriber to add, its address in normal form (see `add_many`)."""

    email: str
    name: str
    locale: str
    topics: tuple[str, ...]
    consent: Consent


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
    consent: Consent | None,
) -> Subscriber:
    """Insert a new subscriber; the caller checks that the address is not known yet.

    A sign-up from the form is added pending and without consent: consent is recorded
    when its confirmation is pressed (see `sign_ups`).
    """
    moment = _now()
    address = normalise_address(email)
    suppression.adopt(connection, address)
    subscriber_id = connection.execute(
        sa.insert(subscribers)
        .values(
            email=address,
            email_hash=suppression.email_hash(connection, address),
            name=name,
            locale=locale,
            topics=list(topics),
            state=state,
            created_at=moment,
            updated_at=moment,
            **({} if consent is None else _consent_columns(consent)),
        )
        .returning(subscribers.c.id)
    ).scalar_one()
    cause = (
        "added, waiting for the opt-in"
        if consent is None
        else (f"added ({consent.source}: {consent.detail})")
    )
    log_event(connection, subscriber_id, state, cause)
    found = find(connection, email)
    assert found is not None
    return found


def known_emails(connection: sa.Connection, normalised_emails: Sequence[str]) -> set[str]:
    """Those of the addresses (in normal form) that the store holds, in one query."""
    if not normalised_emails:
        return set()
    dialect = connection.dialect.name
    found = connection.execute(
        sa.select(subscribers.c.email).where(
            subscribers.c.email.in_(bulk.text_list(dialect, "emails"))
        ),
        bulk.text_list_params(dialect, "emails", normalised_emails),
    )
    return set(found.scalars())


_ADDED_COLUMNS = (
    "email",
    "email_hash",
    "name",
    "locale",
    "topics",
    "state",
    "created_at",
    "updated_at",
    "consent_at",
    "consent_source",
    "consent_detail",
    "consent_text_version",
    "consent_ip",
)


def add_many(
    connection: sa.Connection, new: Sequence[NewSubscriber], *, state: str, key: str
) -> None:
    """Insert many subscribers in two statements, each with the history line `add` writes.

    `key` is the store's salt (`suppression.salt`). The caller checks that no address is
    known and none is suppressed under either of its hashes: so, unlike `add`, no entry
    of the suppression list needs adopting.
    """
    if not new:
        return
    moment = _now()
    bulk.insert_rows(
        connection,
        subscribers,
        _ADDED_COLUMNS,
        (
            (
                person.email,
                suppression.digest(key, person.email),
                person.name,
                person.locale,
                person.topics,
                state,
                moment,
                moment,
                person.consent.at,
                person.consent.source,
                person.consent.detail,
                person.consent.text_version,
                person.consent.ip,
            )
            for person in new
        ),
    )
    # The history lines are made in the database, from the rows just written.
    dialect = connection.dialect.name
    cause = sa.literal("added (") + subscribers.c.consent_source + ": "
    connection.execute(
        sa.insert(subscriber_events).from_select(
            ["subscriber_id", "at", "state", "cause"],
            sa.select(
                subscribers.c.id,
                subscribers.c.created_at,
                subscribers.c.state,
                cause + subscribers.c.consent_detail + ")",
            ).where(subscribers.c.email.in_(bulk.text_list(dialect, "emails"))),
        ),
        bulk.text_list_params(dialect, "emails", [person.email for person in new]),
    )


def _consent_columns(consent: Consent) -> dict[str, object]:
    return {
        "consent_at": consent.at,
        "consent_source": consent.source,
        "consent_detail": consent.detail,
        "consent_text_version": consent.text_version,
        "consent_ip": consent.ip,
    }


def get(connection: sa.Connection, subscriber_id: int) -> Subscriber | None:
    row = connection.execute(
        sa.select(subscribers).where(subscribers.c.id == subscriber_id)
    ).first()
    return None if row is None else _row_to_subscriber(row)


def apply_opt_in(
    connection: sa.Connection,
    subscriber_id: int,
    *,
    name: str,
    locale: str,
    topics: Sequence[str],
    consent: Consent,
) -> None:
    """A confirmed opt-in: its choices and consent replace the record's; the reader is active."""
    values = {"locale": locale, "topics": list(topics), **_consent_columns(consent)}
    if name:
        values["name"] = name
    connection.execute(
        sa.update(subscribers).where(subscribers.c.id == subscriber_id).values(**values)
    )
    set_state(connection, subscriber_id, "active", f"confirmed ({consent.detail})")


def set_preferences(
    connection: sa.Connection, subscriber_id: int, *, topics: Sequence[str], locale: str
) -> None:
    connection.execute(
        sa.update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(topics=list(topics), locale=locale, updated_at=_now())
    )


def consent(connection: sa.Connection, subscriber_id: int) -> Consent | None:
    """The reader's recorded consent: where it came from and when; None before an opt-in."""
    row = connection.execute(
        sa.select(subscribers).where(subscribers.c.id == subscriber_id)
    ).first()
    if row is None or row.consent_at is None:
        return None
    return Consent(
        row.consent_source or "",
        row.consent_detail or "",
        row.consent_at,
        text_version=row.consent_text_version,
        ip=row.consent_ip,
    )


def stats_consent(connection: sa.Connection, subscriber_id: int) -> StatsConsent | None:
    """The reader's consent to personalised statistics; None when not given or withdrawn."""
    row = connection.execute(
        sa.select(subscribers.c.stats_consent_at, subscribers.c.stats_consent_text_version).where(
            subscribers.c.id == subscriber_id
        )
    ).first()
    if row is None or row.stats_consent_at is None:
        return None
    return StatsConsent(row.stats_consent_at, row.stats_consent_text_version or "")


def give_stats_consent(
    connection: sa.Connection, subscriber_id: int, at: datetime, text_version: str, how: str
) -> None:
    """Record the consent to personalised statistics (`how`: where it was given)."""
    connection.execute(
        sa.update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(stats_consent_at=at, stats_consent_text_version=text_version, updated_at=_now())
    )
    _log_consent(
        connection,
        subscriber_id,
        f"agreed to personalised statistics (text version {text_version}, {how})",
    )


def withdraw_stats_consent(connection: sa.Connection, subscriber_id: int, how: str) -> bool:
    """Take back the consent to personalised statistics; False when none was given.

    The rows that name the reader (clicks, opens) are the pipeline's: it anonymises them
    in the same transaction.
    """
    withdrawn = connection.execute(
        sa.update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.stats_consent_at.is_not(None))
        .values(stats_consent_at=None, stats_consent_text_version=None, updated_at=_now())
    )
    if withdrawn.rowcount == 0:
        return False
    _log_consent(connection, subscriber_id, f"withdrew personalised statistics ({how})")
    return True


def _log_consent(connection: sa.Connection, subscriber_id: int, cause: str) -> None:
    """A history line that changes no state: it names the state the reader is in."""
    state = connection.execute(
        sa.select(subscribers.c.state).where(subscribers.c.id == subscriber_id)
    ).scalar_one()
    log_event(connection, subscriber_id, state, cause)


def set_state(
    connection: sa.Connection,
    subscriber_id: int,
    state: str,
    cause: str,
    *,
    issue_id: int | None = None,
) -> None:
    connection.execute(
        sa.update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(state=state, updated_at=_now())
    )
    log_event(connection, subscriber_id, state, cause, issue_id=issue_id)


def log_event(
    connection: sa.Connection,
    subscriber_id: int,
    state: str,
    cause: str,
    *,
    issue_id: int | None = None,
) -> None:
    """One line of the subscriber's history; every state change writes one. `issue_id`
    names the issue whose link caused it (an unsubscribe), for that issue's report."""
    connection.execute(
        sa.insert(subscriber_events).values(
            subscriber_id=subscriber_id, at=_now(), state=state, cause=cause, issue_id=issue_id
        )
    )


def active_ids() -> sa.Select[tuple[int]]:
    """The audience of a send as a query, so the ledger can be filled in the database.

    An active subscriber whose address is on the suppression list is left out: the list
    wins over any state, whichever way the two came apart.
    """
    suppressed = sa.select(suppressions.c.email_hash)
    return sa.select(subscribers.c.id).where(
        subscribers.c.state == "active",
        sa.or_(subscribers.c.email_hash.is_(None), subscribers.c.email_hash.not_in(suppressed)),
    )


DEFAULT_SOFT_BOUNCE_WINDOW = timedelta(days=30)


def record_bounce(
    connection: sa.Connection,
    email: str,
    kind: str,
    cause: str,
    soft_bounce_limit: int,
    soft_bounce_window: timedelta = DEFAULT_SOFT_BOUNCE_WINDOW,
) -> str | None:
    """Apply a bounce or complaint reported by the mail service; returns the new state.

    Hard bounces and complaints suppress the address at once, known or not; soft bounces
    are counted and suppress once `soft_bounce_limit` of them came within
    `soft_bounce_window` (older ones no longer count: a full mailbox last spring says
    nothing about the address today).
    """
    address = normalise_address(email)
    found = find(connection, address)
    if kind == "soft":
        if found is None:
            return None
        count = _count_soft_bounce(connection, found.id, soft_bounce_window)
        if count < soft_bounce_limit:
            log_event(connection, found.id, found.state, f"soft bounce {count}: {cause}")
            return found.state
        suppression.suppress(connection, address, "soft_bounces")
        set_state(connection, found.id, "bounced", f"{count} soft bounces, last: {cause}")
        return "bounced"
    state, reason = (
        ("complained", "complaint") if kind == "complaint" else ("bounced", "hard_bounce")
    )
    suppression.suppress(connection, address, reason)
    if found is None:
        return None
    set_state(connection, found.id, state, cause)
    return state


def _count_soft_bounce(connection: sa.Connection, subscriber_id: int, window: timedelta) -> int:
    """Note one soft bounce now; returns how many came within the window, this one too."""
    moment = _now()
    connection.execute(sa.insert(soft_bounce_events).values(subscriber_id=subscriber_id, at=moment))
    count: int = connection.execute(
        sa.select(sa.func.count()).where(
            soft_bounce_events.c.subscriber_id == subscriber_id,
            soft_bounce_events.c.at > moment - window,
        )
    ).scalar_one()
    connection.execute(
        sa.update(subscribers).where(subscribers.c.id == subscriber_id).values(soft_bounces=count)
    )
    return count


def history(connection: sa.Connection, subscriber_id: int) -> list[dict[str, str]]:
    rows = connection.execute(
        sa.select(subscriber_events)
        .where(subscriber_events.c.subscriber_id == subscriber_id)
        .order_by(subscriber_events.c.id)
    ).all()
    return [{"at": r.at.isoformat(), "state": r.state, "cause": r.cause} for r in rows]


def iter_all(connection: sa.Connection) -> Iterator[Subscriber]:
    result = connection.execute(sa.select(subscribers).order_by(subscribers.c.id))
    for row in result:
        yield _row_to_subscriber(row)


def count_by_state(connection: sa.Connection) -> dict[str, int]:
    """How many subscribers are in each state, every state named (0 where none is)."""
    counts = dict.fromkeys(SUBSCRIBER_STATES, 0)
    rows = connection.execute(
        sa.select(subscribers.c.state, sa.func.count()).group_by(subscribers.c.state)
    )
    counts.update({state: int(count) for state, count in rows})
    return counts
