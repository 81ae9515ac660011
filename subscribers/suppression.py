"""The suppression list: salted hashes of addresses that must never be mailed again.

Only a hash is kept, so an erased person's address is gone from the store, yet an import
or a sign-up of the same address is still recognised. The salt is made at random when the
database is created and lives in it, so the hashes cannot be matched against another list.

The hash is of the address's normal form (`subscribers.addresses`). Hashes made by releases
before 0012 are of the older spelling (`legacy_spelling`); migration 0012 re-hashed those
whose address the store still held, but an erased person's cannot be re-hashed, their
address being gone. So every lookup checks both digests, and a listed address keeps
matching whichever release listed it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa

from subscribers.addresses import legacy_spelling
from subscribers.schema import store_salt, suppressions

REASONS = ("erased", "hard_bounce", "soft_bounces", "complaint", "admin")
# Reasons that only a new, confirmed opt-in may lift; the others come from the mail system.
LIFTED_BY_OPT_IN = ("erased",)


def salt(connection: sa.Connection) -> str:
    value: str = connection.execute(sa.select(store_salt.c.salt)).scalar_one()
    return value


def email_hash(connection: sa.Connection, normalised_email: str) -> str:
    return _digest(salt(connection), normalised_email)


def _digest(key: str, spelling: str) -> str:
    return hmac.new(key.encode(), spelling.encode(), hashlib.sha256).hexdigest()


def _digests(connection: sa.Connection, normalised_email: str) -> list[str]:
    """The address's hash and, for entries made before 0012, its old spelling's hash."""
    key = salt(connection)
    return [_digest(key, normalised_email), _digest(key, legacy_spelling(normalised_email))]


def suppress(connection: sa.Connection, normalised_email: str, reason: str) -> None:
    """Add the address; an address already listed keeps its first reason."""
    assert reason in REASONS, reason
    if reason_for(connection, normalised_email) is None:
        connection.execute(
            sa.insert(suppressions).values(
                email_hash=email_hash(connection, normalised_email),
                reason=reason,
                at=datetime.now(UTC),
            )
        )


def reason_for(connection: sa.Connection, normalised_email: str) -> str | None:
    """Why the address is suppressed, or None when it is not."""
    reason: str | None = connection.execute(
        sa.select(suppressions.c.reason)
        .where(suppressions.c.email_hash.in_(_digests(connection, normalised_email)))
        .order_by(suppressions.c.at)
        .limit(1)
    ).scalar_one_or_none()
    return reason


def adopt(connection: sa.Connection, normalised_email: str) -> None:
    """Re-hash an entry made before 0012 for an address the store holds again.

    The audience of a send compares the subscribers' hashes with the list's in the
    database (`store.active_ids`), so a listed address that becomes a subscriber must be
    listed under the hash the subscriber row carries.
    """
    digest, old = _digests(connection, normalised_email)
    if old == digest:
        return
    listed = sa.select(suppressions.c.email_hash).where(suppressions.c.email_hash == digest)
    if connection.execute(listed).first() is None:
        connection.execute(
            sa.update(suppressions)
            .where(suppressions.c.email_hash == old)
            .values(email_hash=digest)
        )
    else:
        connection.execute(sa.delete(suppressions).where(suppressions.c.email_hash == old))


def lift(connection: sa.Connection, normalised_email: str) -> None:
    connection.execute(
        sa.delete(suppressions).where(
            suppressions.c.email_hash.in_(_digests(connection, normalised_email))
        )
    )
