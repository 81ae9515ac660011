"""Bearer tokens of the JSON API: made once and shown once, kept only as a SHA-256.

A token is 32 random bytes; hashing it without a salt is enough (nobody can guess the
input) and lets a request find its row with one indexed lookup. Every request reads the
row, so `revoke` takes effect at once in every running `serve`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.db import api_tokens
from pipeline.errors import NewsletterError

SCOPES = (
    "subscribers:read",
    "subscribers:write",
    "subscribers:signup",
    "items:read",
    "items:write",
    "issues:read",
)
PREFIX = "nlapi_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# `last_used_at` is written at most this often a token, not on every request.
LAST_USED_GRAIN = timedelta(minutes=1)


class TokenRefused(NewsletterError):
    pass


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    """`a,b` or `a b` -> the scopes; an unknown scope is refused with the known ones."""
    scopes = frozenset(part for part in re.split(r"[\s,]+", text) if part)
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise TokenRefused(
            f"--scope: unknown scope {', '.join(unknown)}; the scopes are {', '.join(SCOPES)}"
        )
    if not scopes:
        raise TokenRefused(f"--scope: name at least one of {', '.join(SCOPES)}")
    return scopes


def _token(row: sa.Row[object]) -> ApiToken:
    m = row._mapping
    return ApiToken(
        id=m["id"],
        name=m["name"],
        scopes=frozenset(m["scopes"].split()),
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )


def create_token(
    engine: sa.Engine, name: str, scopes: frozenset[str], at: datetime
) -> tuple[ApiToken, str]:
    """A new token named `name`: its row and the token itself, which is never stored."""
    if not NAME.match(name):
        raise TokenRefused(
            "NAME: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    values = {
        "name": name,
        "token_hash": token_hash(token),
        "scopes": " ".join(sorted(scopes)),
        "created_at": at,
    }
    with engine.begin() as connection:
        taken = connection.execute(
            sa.select(api_tokens.c.revoked_at).where(api_tokens.c.name == name)
        ).first()
        if taken is not None and taken.revoked_at is None:
            raise TokenRefused(f"NAME: a token named {name!r} exists; revoke it first")
        if taken is not None:
            # A revoked name may be used again; its old token stays dead (a new hash).
            connection.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.name == name)
                .values(**values, last_used_at=None, revoked_at=None)
            )
        else:
            connection.execute(sa.insert(api_tokens).values(**values))
        row = connection.execute(sa.select(api_tokens).where(api_tokens.c.name == name)).one()
    return _token(row), token


def list_tokens(engine: sa.Engine) -> list[ApiToken]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(api_tokens).order_by(api_tokens.c.name)).all()
    return [_token(row) for row in rows]


def revoke_token(engine: sa.Engine, name: str, at: datetime) -> ApiToken:
    with engine.begin() as connection:
        revoked = connection.execute(
            sa.update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(*api_tokens.c)
        ).first()
    if revoked is None:
        raise TokenRefused(
            f"NAME: no active token is named {name!r} (`newsletter api tokens list`)"
        )
    return _token(revoked)


def find_token(connection: sa.Connection, token: str, at: datetime) -> ApiToken | None:
    """The active token `token` is, or None; notes when it was last used."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = connection.execute(
        sa.select(api_tokens).where(
            api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    found = _token(row)
    if found.last_used_at is None or at - found.last_used_at >= LAST_USED_GRAIN:
        connection.execute(
            sa.update(api_tokens).where(api_tokens.c.id == found.id).values(last_used_at=at)
        )
    return found
