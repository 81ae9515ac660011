"""Desk sessions kept on the server: a row per signed-in browser, ended by deleting it.

The cookie holds a random session id, signed; the table holds only the id's SHA-256, so
a leaked copy of the database opens no session. A session lasts `SESSION_MAX_AGE` from
sign-in, until its editor signs out (there or everywhere), or until the address leaves
`editors:`. Form tokens are bound to the session (`csrf_binding`), so they die with it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer

from pipeline.config import Config
from pipeline.db import desk_sessions
from pipeline.tokens import SecretKeys

SESSION_MAX_AGE = timedelta(hours=12)
# "Last seen" is written at most this often, so that pages do not each write the database.
TOUCH_EVERY = timedelta(minutes=1)
USER_AGENT_CHARS = 120


@dataclass(frozen=True)
class DeskSession:
    id_hash: str
    editor: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    csrf_binding: str


def _cookies(secret_key: SecretKeys) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="newsletter.desk-session-id")


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _binding(session_id: str) -> str:
    """What form tokens are bound to: derived from the id, unlike the stored hash."""
    return hashlib.sha256(f"form\0{session_id}".encode()).hexdigest()[:32]


def _user_agent(header: str) -> str:
    """A summary to tell one's browsers apart on the sessions page, not a fingerprint."""
    printable = "".join(c for c in header if c.isprintable())
    return printable[:USER_AGENT_CHARS]


def start_session(
    engine: sa.Engine, secret_key: SecretKeys, editor: str, user_agent: str, at: datetime
) -> str:
    """A new session for the editor; returns the cookie's value. Expired rows are deleted."""
    session_id = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(sa.delete(desk_sessions).where(desk_sessions.c.expires_at <= at))
        connection.execute(
            sa.insert(desk_sessions).values(
                id_hash=_hash(session_id),
                editor=editor,
                created_at=at,
                last_seen_at=at,
                expires_at=at + SESSION_MAX_AGE,
                user_agent=_user_agent(user_agent),
            )
        )
    return str(_cookies(secret_key).dumps(session_id))


def find_session(
    engine: sa.Engine, secret_key: SecretKeys, cookie: str, at: datetime
) -> DeskSession | None:
    """The live session the cookie names, or None (forged, ended or expired)."""
    try:
        session_id = _cookies(secret_key).loads(cookie)
    except BadSignature:
        return None
    if not isinstance(session_id, str):
        return None
    id_hash = _hash(session_id)
    table = desk_sessions
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(table).where(table.c.id_hash == id_hash, table.c.expires_at > at)
        ).first()
    if row is None:
        return None
    last_seen = row.last_seen_at
    if at - last_seen >= TOUCH_EVERY:
        last_seen = at
        with engine.begin() as connection:
            connection.execute(
                sa.update(table).where(table.c.id_hash == id_hash).values(last_seen_at=at)
            )
    return DeskSession(
        id_hash=id_hash,
        editor=row.editor,
        created_at=row.created_at,
        last_seen_at=last_seen,
        expires_at=row.expires_at,
        user_agent=row.user_agent,
        csrf_binding=_binding(session_id),
    )


def end_session(engine: sa.Engine, id_hash: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(desk_sessions).where(desk_sessions.c.id_hash == id_hash))


def end_sessions_of(engine: sa.Engine, editor: str) -> int:
    """Sign the editor out everywhere; the number of sessions ended."""
    with engine.begin() as connection:
        result = connection.execute(
            sa.delete(desk_sessions).where(desk_sessions.c.editor == editor)
        )
    return int(result.rowcount)


def sessions_of(engine: sa.Engine, editor: str, at: datetime) -> list[DeskSession]:
    """The editor's live sessions, the most recently seen first (no form binding)."""
    table = desk_sessions
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table)
            .where(table.c.editor == editor, table.c.expires_at > at)
            .order_by(table.c.last_seen_at.desc())
        ).all()
    return [
        DeskSession(
            row.id_hash,
            row.editor,
            row.created_at,
            row.last_seen_at,
            row.expires_at,
            row.user_agent,
            "",
        )
        for row in rows
    ]


def end_sessions_of_non_editors(
    engine: sa.Engine, config: Config, is_editor: Callable[[Config, str], bool]
) -> int:
    """Delete the sessions of addresses no longer in `editors:`; the number ended."""
    with engine.begin() as connection:
        holders = connection.execute(sa.select(desk_sessions.c.editor).distinct()).scalars()
        gone = [address for address in holders if not is_editor(config, address)]
        if not gone:
            return 0
        result = connection.execute(
            sa.delete(desk_sessions).where(desk_sessions.c.editor.in_(gone))
        )
    return int(result.rowcount)
