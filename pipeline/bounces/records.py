"""The bounce messages in the database: each one's claim, the mailbox's health, pruning.

A message is claimed by inserting its row, keyed by mailbox, UID/UIDL and claim key, in
the same transaction that applies its verdict: a second reader of the same mailbox
inserting the same key waits for the first to commit and then fails on the unique key,
so the verdict is applied once. The claim key is the Message-ID, or a hash of the bytes
when the message has none (or a Message-ID too long to be one); with the UID, so two
different messages that share a Message-ID (a careless server's) are both read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

import sqlalchemy as sa

from pipeline.bounces.mailbox import Destination
from pipeline.db import bounce_mailboxes, bounce_messages, deliveries, delivery_events, issues

MAX_MESSAGE_ID = 250
_ANGLE_ID = re.compile(rf"<([^<>\s]{{1,{MAX_MESSAGE_ID}}})>")


def claim_key(raw: bytes) -> str:
    """`mid:<id>` of the message's Message-ID, or `sha256:<hex>` of its bytes."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    value = str(headers.get("Message-ID", "") or "")
    found = _ANGLE_ID.search(value)
    if found is not None:
        return f"mid:{found.group(1)}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


@dataclass(frozen=True)
class Stored:
    row_id: int
    kind: str
    filed: Destination
    processed_at: datetime


def seen(connection: sa.Connection, mailbox: str) -> dict[str, Stored]:
    """The mailbox's messages read before, by their UID/UIDL: what they were, where filed."""
    rows = connection.execute(
        sa.select(
            bounce_messages.c.id,
            bounce_messages.c.uid,
            bounce_messages.c.kind,
            bounce_messages.c.filed,
            bounce_messages.c.processed_at,
        ).where(bounce_messages.c.mailbox == mailbox)
    ).all()
    return {row.uid: Stored(row.id, row.kind, row.filed, row.processed_at) for row in rows}


def is_claimed(connection: sa.Connection, mailbox: str, uid: str, key: str) -> bool:
    row = connection.execute(
        sa.select(bounce_messages.c.id).where(
            bounce_messages.c.mailbox == mailbox,
            bounce_messages.c.uid == uid,
            bounce_messages.c.claim_key == key,
        )
    ).first()
    return row is not None


def claim(
    connection: sa.Connection, mailbox: str, key: str, uid: str, raw: bytes, at: datetime
) -> int:
    """Insert the message's row (its claim); IntegrityError when it is claimed already.
    The first statement of its transaction, so SQLite takes the write lock here."""
    row_id: int = connection.execute(
        sa.insert(bounce_messages)
        .values(
            mailbox=mailbox,
            claim_key=key,
            uid=uid,
            received_at=at,
            processed_at=at,
            kind="unrecognised",
            filed="unrecognised",
            raw=raw,
        )
        .returning(bounce_messages.c.id)
    ).scalar_one()
    return row_id


def complete(connection: sa.Connection, row_id: int, **values: object) -> None:
    """Write the verdict and what was done into the claimed row."""
    connection.execute(
        sa.update(bounce_messages).where(bounce_messages.c.id == row_id).values(**values)
    )


def take_forward(
    connection: sa.Connection, row_id: int, at: datetime, idle: timedelta
) -> bytes | None:
    """Take a kept reply's forward: its bytes when it has been left alone for `idle` (so no
    reader is forwarding it now) and this reader moved its processed_at on; else None."""
    taken = connection.execute(
        sa.update(bounce_messages)
        .where(
            bounce_messages.c.id == row_id,
            bounce_messages.c.kind == "reply",
            bounce_messages.c.filed == "kept",
            bounce_messages.c.processed_at < at - idle,
            bounce_messages.c.raw.is_not(None),
        )
        .values(processed_at=at)
    )
    if taken.rowcount != 1:
        return None
    raw: bytes | None = connection.execute(
        sa.select(bounce_messages.c.raw).where(bounce_messages.c.id == row_id)
    ).scalar_one()
    return raw


def prune_raw(connection: sa.Connection, keep_days: float, at: datetime) -> int:
    """Drop the bytes of messages read more than `keep_days` ago; the rows (what each
    was, what it did) stay for `subscribers show`."""
    result = connection.execute(
        sa.update(bounce_messages)
        .where(
            bounce_messages.c.processed_at < at - timedelta(days=keep_days),
            bounce_messages.c.raw.is_not(None),
        )
        .values(raw=None)
    )
    return result.rowcount


def note_read(engine: sa.Engine, mailbox: str, at: datetime, error: str | None) -> None:
    """The mailbox was read at `at`, and either succeeded or failed with `error`."""
    values: dict[str, object] = {"last_read_at": at}
    if error is None:
        values["last_success_at"] = at
    else:
        values |= {"last_error": error, "last_error_at": at}
    with engine.begin() as connection:
        updated = connection.execute(
            sa.update(bounce_mailboxes).where(bounce_mailboxes.c.mailbox == mailbox).values(values)
        )
        if updated.rowcount == 0:
            try:
                with connection.begin_nested():
                    connection.execute(
                        sa.insert(bounce_mailboxes).values(mailbox=mailbox, **values)
                    )
            except sa.exc.IntegrityError:  # another reader inserted it meanwhile
                connection.execute(
                    sa.update(bounce_mailboxes)
                    .where(bounce_mailboxes.c.mailbox == mailbox)
                    .values(values)
                )


@dataclass(frozen=True)
class MailboxHealth:
    mailbox: str
    last_read_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    counts: dict[str, int]
    unrecognised: int

    @property
    def failing(self) -> bool:
        return self.last_error_at is not None and (
            self.last_success_at is None or self.last_error_at > self.last_success_at
        )

    def as_json(self) -> dict[str, object]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "mailbox": self.mailbox,
            "state": "never read"
            if self.last_read_at is None
            else ("failing" if self.failing else "ok"),
            "last_read_at": iso(self.last_read_at),
            "last_success_at": iso(self.last_success_at),
            "last_error": self.last_error,
            "last_error_at": iso(self.last_error_at),
            "counts": self.counts,
            "unrecognised": self.unrecognised,
        }


def mailbox_health(connection: sa.Connection, mailbox: str) -> MailboxHealth:
    row = connection.execute(
        sa.select(bounce_mailboxes).where(bounce_mailboxes.c.mailbox == mailbox)
    ).first()
    counts: dict[str, int] = {
        kind: count
        for kind, count in connection.execute(
            sa.select(bounce_messages.c.kind, sa.func.count())
            .where(bounce_messages.c.mailbox == mailbox)
            .group_by(bounce_messages.c.kind)
        )
    }
    unrecognised: int = connection.execute(
        sa.select(sa.func.count()).where(
            bounce_messages.c.mailbox == mailbox,
            sa.or_(
                bounce_messages.c.filed == "unrecognised",
                bounce_messages.c.kind == "unrecognised",
            ),
        )
    ).scalar_one()
    return MailboxHealth(
        mailbox,
        None if row is None else row.last_read_at,
        None if row is None else row.last_success_at,
        None if row is None else row.last_error,
        None if row is None else row.last_error_at,
        dict(sorted(counts.items())),
        unrecognised,
    )


@dataclass(frozen=True)
class SuppressingBounce:
    """The last bounce or complaint reported of a reader, by a webhook or the mailbox."""

    kind: str
    source: str
    """The mail service's webhook (`mailgun`...) or `mailbox`."""
    status: str | None
    diagnostic: str
    at: datetime
    issue: int


SUPPRESSING_KINDS = ("hard", "soft", "complaint")


def last_bounce(connection: sa.Connection, subscriber_id: int) -> SuppressingBounce | None:
    """What last bounced for the reader: for a suppressed reader, what suppressed them.
    From the bounce mailbox it has the enhanced status and the server's words apart."""
    event = connection.execute(
        sa.select(delivery_events, issues.c.number)
        .join(deliveries, deliveries.c.id == delivery_events.c.delivery_id)
        .join(issues, issues.c.id == deliveries.c.issue_id)
        .where(
            deliveries.c.subscriber_id == subscriber_id,
            delivery_events.c.kind.in_(SUPPRESSING_KINDS),
        )
        .order_by(delivery_events.c.received_at.desc(), delivery_events.c.id.desc())
        .limit(1)
    ).first()
    if event is None:
        return None
    status, diagnostic = None, event.detail
    if event.provider == "mailbox":
        message = connection.execute(
            sa.select(bounce_messages.c.status, bounce_messages.c.diagnostic)
            .where(
                bounce_messages.c.delivery_id == event.delivery_id,
                bounce_messages.c.kind == event.kind,
            )
            .order_by(bounce_messages.c.processed_at.desc())
            .limit(1)
        ).first()
        if message is not None:
            status, diagnostic = message.status, message.diagnostic
    return SuppressingBounce(
        event.kind, event.provider, status, diagnostic, event.received_at, event.number
    )
