"""addresses respelled: the domain as its IDNA 2008 A-label, the hashes made anew

Revision ID: 0012
Revises: 0011

Earlier releases stored an address as email-validator's normal form lower-cased, with the
domain as its Unicode U-label (`kai@bücherei-quartier.de`). The store now keeps the domain
as its A-label (`kai@xn--bcherei-quartier-jzb.de`, see `subscribers.addresses`). The
respelling is safe: the U-label was made by the same UTS #46 non-transitional processing,
so its A-label names the same domain, and the local part was lower-cased already (the new
form lower-cases only A-Z in it, which changes nothing there).

Each subscriber's hash is made anew from the new spelling, and a suppression entry under
the old hash of an address the store holds is moved to the new hash, so that the audience
of a send (which compares the two hashes in the database) still leaves it out. An erased
person's entry cannot be moved, the address being gone: it keeps its old hash, and every
lookup checks the old spelling's hash too (`subscribers.suppression`).

This migration does its own respelling rather than import the application's, so that what
it does stays fixed when the application's rules change later.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import idna
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

subscribers = sa.table(
    "subscribers", sa.column("id", sa.Integer), sa.column("email"), sa.column("email_hash")
)
suppressions = sa.table("suppressions", sa.column("email_hash"))
store_salt = sa.table("store_salt", sa.column("salt"))


def _to_a_label(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}@{idna.encode(domain, uts46=True, transitional=False).decode().lower()}"


def _to_u_label(address: str) -> str:
    local, _, domain = address.rpartition("@")
    return f"{local}@{idna.decode(domain)}".lower()


def _respell(respelled: Callable[[str], str]) -> None:
    connection = op.get_bind()
    salt = connection.execute(sa.select(store_salt.c.salt)).scalar()
    if salt is None:
        return
    rows = connection.execute(sa.select(subscribers.c.id, subscribers.c.email)).all()
    taken = {row.email for row in rows}
    for row in rows:
        try:
            spelling = respelled(row.email)
        except (idna.IDNAError, UnicodeError):
            continue  # Not valid IDNA 2008: left as it was, so it is still found as before.
        if spelling == row.email or spelling in taken:
            continue
        old = hmac.new(salt.encode(), row.email.encode(), hashlib.sha256).hexdigest()
        new = hmac.new(salt.encode(), spelling.encode(), hashlib.sha256).hexdigest()
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.id == row.id)
            .values(email=spelling, email_hash=new)
        )
        listed = sa.select(suppressions.c.email_hash).where(suppressions.c.email_hash == new)
        if connection.execute(listed).first() is None:
            connection.execute(
                sa.update(suppressions)
                .where(suppressions.c.email_hash == old)
                .values(email_hash=new)
            )
        else:
            connection.execute(sa.delete(suppressions).where(suppressions.c.email_hash == old))
        taken.add(spelling)


def upgrade() -> None:
    _respell(_to_a_label)


def downgrade() -> None:
    # Entries listed since the upgrade for addresses the store no longer holds (erasures)
    # keep the new hash, which the older release does not check.
    _respell(_to_u_label)
