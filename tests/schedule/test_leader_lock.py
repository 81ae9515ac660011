"""Exactly one daemon holds the scheduler lock, on SQLite (a lease) and PostgreSQL (advisory)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.db import daemon_locks
from pipeline.schedule.leader import holder, make_leader_lock


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    return engine


def test_second_daemon_cannot_take_a_held_lock(engine: sa.Engine) -> None:
    first = make_leader_lock(engine, 30, owner="host-a pid 1")
    second = make_leader_lock(engine, 30, owner="host-b pid 2")
    assert first.acquire()
    assert not second.acquire()
    assert first.renew()
    owner, _until = holder(engine) or ("", None)
    assert owner == "host-a pid 1"
    first.release()
    assert second.acquire()
    assert (holder(engine) or ("",))[0] == "host-b pid 2"
    second.release()
    assert holder(engine) is None


def test_lapsed_lease_is_taken_over_and_the_old_holder_learns_it(tmp_path: object) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/lease.db")
    db.upgrade(engine)
    first = make_leader_lock(engine, 30, owner="host-a pid 1")
    second = make_leader_lock(engine, 30, owner="host-b pid 2")
    assert first.acquire()
    # The first daemon froze (machine suspended): its lease ran out.
    with engine.begin() as connection:
        connection.execute(
            sa.update(daemon_locks).values(expires_at=db.now() - timedelta(seconds=1))
        )
    assert second.acquire()
    assert not first.renew()


def test_postgres_lock_dies_with_its_holders_connection(postgres_url: str) -> None:
    engine = db.make_engine(postgres_url)
    db.upgrade(engine)
    first = make_leader_lock(engine, 30, owner="a")
    second = make_leader_lock(engine, 30, owner="b")
    assert first.acquire()
    assert not second.acquire()
    # A killed daemon's session ends; PostgreSQL drops its advisory lock with it.
    # The server notices the closed socket within moments, not instantly.
    first._connection.invalidate()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while not second.acquire():
        assert time.monotonic() < deadline, "the dead session's lock was never released"
        time.sleep(0.1)
    second.release()
