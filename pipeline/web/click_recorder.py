"""Clicks and opens written off the request path, in batches.

A redirect only puts what it saw on a bounded queue; when the queue is full it waits for
room, so no click is ever dropped. One task on the app's event loop takes them off, lets
the machine rules (pipeline/report/machine.py) hold them for their few seconds, and
writes those let go in one transaction, on a thread, at least once a second. Closing it
(the app's lifespan, on shutdown) writes everything still held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.db import clicks, opens
from pipeline.report.machine import Hit, MachineRules
from subscribers.schema import subscribers

log = logging.getLogger(__name__)

MAX_WAITING = 20_000
"""Hits the queue holds: several seconds of the fastest the redirect answers."""
FLUSH_EVERY_S = 1.0
CLOSE_TRIES = 5
"""Writes tried on shutdown while the database refuses, a flush apart, before giving up."""
_IDS_A_QUERY = 1000


@dataclass(frozen=True, slots=True)
class Counted:
    """What one hit becomes: a `clicks` row, or an `opens` row when `link_id` is None."""

    issue_id: int
    variant_no: int
    link_id: int | None
    at: float
    subscriber_id: int | None
    """From the token; kept only while that reader agrees to personalised statistics."""


class ClickRecorder:
    def __init__(
        self,
        engine: sa.Engine,
        scanner_window_s: float,
        *,
        max_waiting: int = MAX_WAITING,
        flush_every_s: float = FLUSH_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._rules: MachineRules[Counted] = MachineRules(scanner_window_s)
        self._queue: asyncio.Queue[tuple[Hit, Counted]] = asyncio.Queue(max_waiting)
        self._wake_at = max(1, max_waiting // 2)
        self._wake = asyncio.Event()
        self._flush_every_s = flush_every_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._unwritten: list[tuple[Counted, str | None]] = []

    async def record(self, hit: Hit, counted: Counted) -> None:
        """Queue a hit; waits only while the queue is full. Starts the writing task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="click-recorder")
        elif self._task.done():
            self._task.result()  # the writer died of a bug: say so, do not wait forever
        try:
            self._queue.put_nowait((hit, counted))
        except asyncio.QueueFull:
            self._wake.set()
            await self._queue.put((hit, counted))
        else:
            if self._queue.qsize() >= self._wake_at:
                self._wake.set()

    async def close(self) -> None:
        """Write everything queued and held, then stop (no hit may come after)."""
        if self._task is None:
            return
        self._closing = True
        self._wake.set()
        try:
            await self._task
        finally:
            self._task, self._closing = None, False

    async def _run(self) -> None:
        failed_closing = 0
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._flush_every_s):
                    await self._wake.wait()
            self._wake.clear()
            closing = self._closing
            # While a write fails nothing more is taken: the queue fills, requests wait.
            taken = []
            if not self._unwritten:
                while not self._queue.empty():
                    taken.append(self._queue.get_nowait())
            try:
                # The rules and the rows cost CPU too: on the thread, not in the loop.
                await asyncio.to_thread(self._flush, taken, closing)
            except sa.exc.SQLAlchemyError as exc:
                waiting = len(self._unwritten)
                log.warning("%d clicks wait to be written: %s", waiting, type(exc).__name__)
                failed_closing += 1 if closing else 0
                if failed_closing >= CLOSE_TRIES:
                    log.error("%d clicks were not written: no database", waiting)
                    return
            if closing and not self._unwritten and self._queue.empty():
                return

    def _flush(self, taken: list[tuple[Hit, Counted]], closing: bool) -> None:
        """On the writer's thread, one flush at a time: the hits through the rules, and
        those let go into the database (kept in `_unwritten` until a write succeeds)."""
        if not self._unwritten:
            for hit, counted in taken:
                self._rules.add(hit, counted)
            rules = self._rules
            self._unwritten = rules.release_all() if closing else rules.release(self._clock())
        if self._unwritten:
            write_counted(self._engine, self._unwritten)
            self._unwritten = []


def write_counted(engine: sa.Engine, counted: list[tuple[Counted, str | None]]) -> None:
    """One transaction: the clicks and opens, each with its verdict (None: a reader's)."""
    click_rows, open_rows = [], []
    with engine.begin() as connection:
        consenting = _consenting(
            connection, {row.subscriber_id for row, _ in counted if row.subscriber_id is not None}
        )
        for row, machine in counted:
            at = datetime.fromtimestamp(row.at, UTC)
            subscriber_id = row.subscriber_id if row.subscriber_id in consenting else None
            if row.link_id is None:
                open_rows.append(
                    {
                        "issue_id": row.issue_id,
                        "variant_no": row.variant_no,
                        "opened_at": at,
                        "machine": machine,
                        "subscriber_id": subscriber_id,
                    }
                )
            else:
                click_rows.append(
                    {
                        "issue_id": row.issue_id,
                        "link_id": row.link_id,
                        "clicked_at": at,
                        "machine": machine,
                        "subscriber_id": subscriber_id,
                    }
                )
        if click_rows:
            connection.execute(clicks.insert(), click_rows)
        if open_rows:
            connection.execute(opens.insert(), open_rows)


def _consenting(connection: sa.Connection, subscriber_ids: Iterable[int]) -> set[int]:
    """Those of the readers who still agree to personalised statistics: a token outlives a
    withdrawn consent and an erased reader, and neither may be named by a click."""
    wanted = sorted(subscriber_ids)
    found: set[int] = set()
    for start in range(0, len(wanted), _IDS_A_QUERY):
        found.update(
            connection.scalars(
                sa.select(subscribers.c.id).where(
                    subscribers.c.id.in_(wanted[start : start + _IDS_A_QUERY]),
                    subscribers.c.stats_consent_at.is_not(None),
                )
            )
        )
    return found
