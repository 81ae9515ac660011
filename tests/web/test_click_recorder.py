"""The click recorder loses no click: not when its queue is full, not while the database
refuses a write for a while. On SQLite and PostgreSQL, with real writes."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.report.machine import Hit
from pipeline.web.click_recorder import ClickRecorder, Counted
from tests.web.tracked import READER, add_issue, clicks_in, link_id

LINKS = [f"https://example.org/{n}" for n in range(1, 4)]


def readers_hits(engine: sa.Engine, count: int) -> list[tuple[Hit, Counted]]:
    issue_id = add_issue(engine, 1, {"de": LINKS})
    link = link_id(engine, issue_id, 1, 1)
    at = time.time()
    minute = int(at // 60) - 10
    hits = []
    for n in range(count):
        ip = f"10.0.{n // 250}.{n % 250}"  # each from a reader of their own
        hit = Hit(at, False, minute, b"%06d" % n, 1, len(LINKS), ip, READER)
        hits.append((hit, Counted(issue_id, 1, link, at, None)))
    return hits


def test_a_full_queue_makes_the_clicks_wait_and_drops_none(engine: sa.Engine) -> None:
    hits = readers_hits(engine, 300)

    async def clicks_at_once() -> None:
        recorder = ClickRecorder(engine, 10, max_waiting=4, flush_every_s=0.05)
        await asyncio.gather(*(recorder.record(*one) for one in hits))
        await recorder.close()

    asyncio.run(clicks_at_once())
    counted = clicks_in(engine)
    assert len(counted) == 300
    assert {c.machine for c in counted} == {None}


def test_clicks_wait_out_a_locked_database_and_are_written_on_close(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "locked.db"
    engine = db.make_engine(f"sqlite:///{path}", busy_timeout_s=0.05)
    db.upgrade(engine)
    hits = readers_hits(engine, 50)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")

    async def clicks_while_locked() -> None:
        recorder = ClickRecorder(engine, 10, flush_every_s=0.2)
        for one in hits:
            await recorder.record(*one)
        closing = asyncio.create_task(recorder.close())
        async with asyncio.timeout(30):
            while "clicks wait to be written" not in caplog.text:
                await asyncio.sleep(0.05)
            blocker.execute("ROLLBACK")
            await closing

    try:
        asyncio.run(clicks_while_locked())
    finally:
        blocker.close()
    assert len(clicks_in(engine)) == 50
    engine.dispose()
