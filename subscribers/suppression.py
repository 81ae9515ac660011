"""The suppression list: salted hashes of addresses that must never be mailed again.

Only a hash is kept, so an erased person's address is gone from the store, yet an import
or a sign-up of the same address is still recognised. The salt is made at random when the
database is created and lives in it, so the hashes cannot be matched against another list.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import sqlalchemy as sa

from subscribers.schema import store_salt, suppressions

REASONS = ("erased", "hard_bounce", "soft_bounces", "complaint", "admin")
# Reasons that only a new, confirmed opt-in may lift; the others come from the mail system.
LIFTED_BY_OPT_IN = ("erased",)


def salt(connection: sa.Connection) -> str:
    value: str = connection.execute(sa.select(store_salt.c.salt)).scalar_one()
    return value


def email_hash(connection: sa.Connection, normalised_email: str) -> str:
    return hmac.new(
        salt(connection).encode(), normalised_email.encode(), hashlib.sha256
    ).hexdigest()


def suppress(connection: sa.Connection, normalised_email: str, reason: str) -> None:
    """Add the address; an address already listed keeps its first reason."""
    assert reason in REASONS, reason
    digest = email_hash(connection, normalised_email)
    known = connection.execute(
        sa.select(suppressions.c.email_hash).where(suppressions.c.email_hash == digest)
    ).first()
    if known is None:
        connection.execute(
            sa.insert(suppressions).values(email_hash=digest, reason=reason, at=datetime.now(UTC))
        )


def reason_for(connection: sa.Connection, normalised_email: str) -> str | None:
    """Why the address is suppressed, or None when it is not."""
    reason: str | None = connection.execute(
        sa.select(suppressions.c.reason).where(
            suppressions.c.email_hash == email_hash(connection, normalised_email)
        )
    ).scalar_one_or_none()
    return reason


def lift(connection: sa.Connection, normalised_email: str) -> None:
    connection.execute(
        sa.delete(suppressions).where(
            suppressions.c.email_hash == email_hash(connection, normalised_email)
        )
    )
