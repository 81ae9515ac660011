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
from collections.abc import Collection
from datetime import UTC, datetime

import sqlalchemy as sa

from subscribers import bulk
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
    return hmac.digest(key.encode(), spelling.encode(), hashlib.sha256).hex()


def digest(key: str, normalised_email: str) -> str:
    """The address's hash under `key`, the store's salt (read once for many addresses)."""
    return _digest(key, normalised_email)


def _digests(key: str, normalised_email: str) -> list[str]:
    """The address's hash and, for entries made before 0012, its old spelling's hash."""
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
    return reasons_for(connection, salt(connection), [normalised_email]).get(normalised_email)


def reasons_for(
    connection: sa.Connection, key: str, normalised_emails: Collection[str]
) -> dict[str, str]:
    """Why each listed one of the addresses is suppressed, in one query; `key` is the salt.

    An address listed under both its hashes (its own and its old spelling's) takes the
    reason of the entry listed first.
    """
    owners: dict[str, list[str]] = {}
    for address in normalised_emails:
        for hashed in _digests(key, address):
            owners.setdefault(hashed, []).append(address)
    if not owners:
        return {}
    dialect = connection.dialect.name
    listed = connection.execute(
        sa.select(suppressions.c.email_hash, suppressions.c.reason)
        .where(suppressions.c.email_hash.in_(bulk.text_list(dialect, "hashes")))
        .order_by(suppressions.c.at.desc()),
        bulk.text_list_params(dialect, "hashes", list(owners)),
    )
    reasons: dict[str, str] = {}
    for hashed, reason in listed:
        for address in owners[hashed]:
            reasons[address] = reason  # the earliest entry comes last and stays
    return reasons


def adopt(connection: sa.Connection, normalised_email: str) -> None:
    """Re-hash an entry made before 0012 for an address the store holds again.

    The audience of a send compares the subscribers' hashes with the list's in the
    database (`store.active_ids`), so a listed address that becomes a subscriber must be
    listed under the hash the subscriber row carries.
    """
    current, old = _digests(salt(connection), normalised_email)
    if old == current:
        return
    listed = sa.select(suppressions.c.email_hash).where(suppressions.c.email_hash == current)
    if connection.execute(listed).first() is None:
        connection.execute(
            sa.update(suppressions)
            .where(suppressions.c.email_hash == old)
            .values(email_hash=current)
        )
    else:
        connection.execute(sa.delete(suppressions).where(suppressions.c.email_hash == old))


def lift(connection: sa.Connection, normalised_email: str) -> None:
    connection.execute(
        sa.delete(suppressions).where(
            suppressions.c.email_hash.in_(_digests(salt(connection), normalised_email))
        )
    )
