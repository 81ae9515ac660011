"""The leader lock: exactly one daemon acts on the schedule, even when two are started.

PostgreSQL: a session-level advisory lock held on a dedicated connection; it vanishes
with the process, however it dies. SQLite has no such lock, so a row in `daemon_locks`
is a lease that the holder renews; a second daemon takes over once it lapses.
Either way the row says who holds the lock, for `status`.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from pipeline.db import daemon_locks, now

LOCK_NAME = "scheduler"
# Any fixed 64-bit number names the advisory lock; this one spells "newsltr".
ADVISORY_KEY = 0x6E65_7773_6C74_72


def this_process() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


class LeaderLock(Protocol):
    owner: str

    def acquire(self) -> bool:
        """Take the lock if free; True when this process holds it."""
        ...

    def renew(self) -> bool:
        """Extend the hold; False when the lock was lost (the caller must stop acting)."""
        ...

    def release(self) -> None: ...


def holder(engine: sa.Engine) -> tuple[str, datetime] | None:
    """Who holds the lock and until when (for `status`), if anyone does."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(daemon_locks.c.owner, daemon_locks.c.expires_at).where(
                daemon_locks.c.name == LOCK_NAME
            )
        ).first()
    return None if row is None else (row.owner, row.expires_at)


def make_leader_lock(engine: sa.Engine, lease_s: int, owner: str | None = None) -> LeaderLock:
    owner = owner or this_process()
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine, owner, lease_s)
    return LeaseLeaderLock(engine, owner, lease_s)


class LeaseLeaderLock:
    def __init__(self, engine: sa.Engine, owner: str, lease_s: int):
        self.engine = engine
        self.owner = owner
        self.lease = timedelta(seconds=lease_s)

    def acquire(self) -> bool:
        moment = now()
        with self.engine.begin() as connection:
            taken = connection.execute(
                sa.update(daemon_locks)
                .where(
                    daemon_locks.c.name == LOCK_NAME,
                    sa.or_(daemon_locks.c.owner == self.owner, daemon_locks.c.expires_at < moment),
                )
                .values(owner=self.owner, acquired_at=moment, expires_at=moment + self.lease)
            ).rowcount
            if taken:
                return True
            exists = connection.execute(
                sa.select(daemon_locks.c.name).where(daemon_locks.c.name == LOCK_NAME)
            ).first()
            if exists is not None:
                return False
            try:
                with connection.begin_nested():
                    connection.execute(
                        sa.insert(daemon_locks).values(
                            name=LOCK_NAME,
                            owner=self.owner,
                            acquired_at=moment,
                            expires_at=moment + self.lease,
                        )
                    )
            except sa.exc.IntegrityError:
                return False  # another daemon inserted the row first
        return True

    def renew(self) -> bool:
        moment = now()
        with self.engine.begin() as connection:
            renewed = connection.execute(
                sa.update(daemon_locks)
                .where(daemon_locks.c.name == LOCK_NAME, daemon_locks.c.owner == self.owner)
                .values(expires_at=moment + self.lease)
            ).rowcount
        return bool(renewed)

    def release(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.delete(daemon_locks).where(
                    daemon_locks.c.name == LOCK_NAME, daemon_locks.c.owner == self.owner
                )
            )


class PostgresLeaderLock:
    def __init__(self, engine: sa.Engine, owner: str, lease_s: int):
        self.engine = engine
        self.owner = owner
        self.lease = timedelta(seconds=lease_s)
        self._connection: sa.Connection | None = None

    def acquire(self) -> bool:
        if self._connection is None:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self._connection.execute(
            sa.select(sa.func.pg_try_advisory_lock(ADVISORY_KEY))
        ).scalar_one()
        if got:
            self._record()
        return bool(got)

    def renew(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(sa.select(1))
        except sa.exc.DBAPIError:
            return False  # the session, and with it the advisory lock, is gone
        self._record()
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        with self.engine.begin() as connection:
            connection.execute(
                sa.delete(daemon_locks).where(
                    daemon_locks.c.name == LOCK_NAME, daemon_locks.c.owner == self.owner
                )
            )
        self._connection.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_KEY)))
        self._connection.close()
        self._connection = None

    def _record(self) -> None:
        moment = now()
        values = {"owner": self.owner, "acquired_at": moment, "expires_at": moment + self.lease}
        with self.engine.begin() as connection:
            updated = connection.execute(
                sa.update(daemon_locks).where(daemon_locks.c.name == LOCK_NAME).values(**values)
            ).rowcount
            if not updated:
                connection.execute(sa.insert(daemon_locks).values(name=LOCK_NAME, **values))
