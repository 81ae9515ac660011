"""Storing feeds' outcomes on a thread of its own while the other feeds are still fetched.

Outcomes are queued as they arrive and written in batches, one transaction per batch: a
commit per feed would cost more than the parsing, and storing after all fetching would
leave the database idle while the cores parse. They are written in config order whatever
order they arrive in, so that "the first feed seen keeps a story" does not depend on which
server answered faster. A batch waits a moment for more outcomes when few are at hand:
storing 25 feeds at once costs half as much per item as storing them one by one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from pipeline.db import now

if TYPE_CHECKING:
    from pipeline.collect import SourceReport
    from pipeline.collect.feeds import FeedOutcome

Store = Callable[[sa.Connection, list["FeedOutcome"], datetime], list["SourceReport"]]
"""Stores outcomes (in config order) in the connection's transaction: a report for each."""
_DONE = None
BATCH_OUTCOMES = 25
BATCH_WAIT_S = 0.05


class StoreWriter(threading.Thread):
    def __init__(self, engine: sa.Engine, store: Store, order: list[str]) -> None:
        super().__init__(name="collect-store", daemon=True)
        self.engine = engine
        self.store = store
        self.position = {url: index for index, url in enumerate(order)}
        self.arrived: dict[int, FeedOutcome] = {}
        self.next = 0
        self.waiting: queue.Queue[FeedOutcome | None] = queue.Queue()
        self.reports: dict[str, SourceReport] = {}
        self.error: BaseException | None = None

    def put(self, outcome: FeedOutcome) -> None:
        self.waiting.put(outcome)

    def run(self) -> None:
        finished = False
        while not finished:
            batch = self._next_batch()
            finished = batch[-1] is _DONE
            outcomes = self._in_order([outcome for outcome in batch if outcome is not _DONE])
            if self.error is not None or not outcomes:
                continue
            try:
                at = now()
                with self.engine.begin() as connection:
                    reports = self.store(connection, outcomes, at)
                for outcome, report in zip(outcomes, reports, strict=True):
                    self.reports[outcome.source.url] = report
            except BaseException as exc:  # re-raised by finish() in the collecting thread
                self.error = exc

    def _next_batch(self) -> list[FeedOutcome | None]:
        """What is queued, waiting up to BATCH_WAIT_S for BATCH_OUTCOMES."""
        batch = [self.waiting.get()]
        deadline = time.monotonic() + BATCH_WAIT_S
        while batch[-1] is not _DONE:
            wait = deadline - time.monotonic()
            try:
                if len(batch) >= BATCH_OUTCOMES or wait <= 0:
                    batch.append(self.waiting.get_nowait())
                else:
                    batch.append(self.waiting.get(timeout=wait))
            except queue.Empty:
                break
        return batch

    def _in_order(self, batch: list[FeedOutcome]) -> list[FeedOutcome]:
        """The outcomes that can be written now: the next ones in config order."""
        for outcome in batch:
            self.arrived[self.position[outcome.source.url]] = outcome
        ready = []
        while self.next in self.arrived:
            ready.append(self.arrived.pop(self.next))
            self.next += 1
        return ready

    def finish(self) -> dict[str, SourceReport]:
        """Wait until everything queued is stored; the reports by feed URL."""
        self.waiting.put(_DONE)
        self.join()
        if self.error is not None:
            raise self.error
        return self.reports
