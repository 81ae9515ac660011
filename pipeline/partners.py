"""Partners who send news in: their registered address and their personal submission link.

A link is a signed token naming the partner's row and that row's nonce
(`pipeline.tokens.make_partner_token`); `revoke` marks the row, and adding a revoked
partner again draws a new nonce, so an old link never opens the form again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import partners
from pipeline.errors import NewsletterError
from pipeline.tokens import InvalidToken, SecretKeys, make_partner_token, read_partner_token
from subscribers.addresses import InvalidAddress, normalise_address

NAME_CHARS = 200


class PartnerRefused(NewsletterError):
    pass


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    email: str
    nonce: str
    created_at: datetime
    revoked_at: datetime | None

    def link(self, base_url: str, secret_key: SecretKeys) -> str:
        token = make_partner_token(secret_key, self.id, self.nonce)
        return f"{base_url.rstrip('/')}/submit/{token}"


def _partner(row: sa.Row[object]) -> Partner:
    m = row._mapping
    return Partner(m["id"], m["name"], m["email"], m["nonce"], m["created_at"], m["revoked_at"])


def add_partner(engine: sa.Engine, name: str, email: str, at: datetime) -> Partner:
    """Register a partner (or one revoked before, with a new link); refuses a bad address
    or a name already active."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_CHARS:
        raise PartnerRefused(f"NAME: give a name of 1 to {NAME_CHARS} characters")
    try:
        address = normalise_address(email)
    except InvalidAddress as exc:
        raise PartnerRefused(f"EMAIL: {email!r} is not an address mail can go to: {exc}") from exc
    values = {"email": address, "nonce": secrets.token_hex(16), "revoked_at": None}
    with engine.begin() as connection:
        known = connection.execute(sa.select(partners).where(partners.c.name == name)).first()
        if known is not None and known.revoked_at is None:
            raise PartnerRefused(f"{name!r} is a partner already (see `newsletter partners list`)")
        if known is None:
            connection.execute(sa.insert(partners).values(name=name, created_at=at, **values))
        else:
            connection.execute(
                sa.update(partners).where(partners.c.id == known.id).values(**values)
            )
        row = connection.execute(sa.select(partners).where(partners.c.name == name)).one()
    return _partner(row)


def list_partners(engine: sa.Engine) -> list[Partner]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(partners).order_by(partners.c.name)).all()
    return [_partner(row) for row in rows]


def revoke_partner(engine: sa.Engine, name: str, at: datetime) -> Partner:
    """Stop a partner's link at once; their submissions stay as they are."""
    name = " ".join(name.split())
    with engine.begin() as connection:
        row = connection.execute(sa.select(partners).where(partners.c.name == name)).first()
        if row is None:
            raise PartnerRefused(f"no partner {name!r} (see `newsletter partners list`)")
        if row.revoked_at is None:
            connection.execute(
                sa.update(partners).where(partners.c.id == row.id).values(revoked_at=at)
            )
        row = connection.execute(sa.select(partners).where(partners.c.id == row.id)).one()
    return _partner(row)


def partner_of_link(connection: sa.Connection, secret_key: SecretKeys, token: str) -> Partner:
    """The active partner a submission link belongs to, or InvalidToken (forged, revoked,
    or replaced by a newer link)."""
    partner_id, nonce = read_partner_token(secret_key, token)
    row = connection.execute(sa.select(partners).where(partners.c.id == partner_id)).first()
    if row is None or row.revoked_at is not None or not secrets.compare_digest(row.nonce, nonce):
        raise InvalidToken("the link is not valid")
    return _partner(row)


def partner_by_id(connection: sa.Connection, partner_id: int) -> Partner | None:
    row = connection.execute(sa.select(partners).where(partners.c.id == partner_id)).first()
    return None if row is None else _partner(row)
