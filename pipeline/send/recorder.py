"""Writing a send's results to the ledger in the background, while the next calls go out.

A worker that waited for its own results to be written after every call spent most of a
one-message call waiting for the ledger thread (its turn on the interpreter lock
included): at 16 calls in flight, each wait held back the next call. The recorder writes
whatever results have queued up, in one transaction, again and again. A worker waits
only before its next claim, until its last claim's results are written: so a crash still
leaves at most one claim per worker in "sending", as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pipeline.send.message import SendResult

Write = Callable[[list[SendResult]], Awaitable[None]]


class Recorder:
    def __init__(self, write: Write):
        self.write = write
        self.queued: list[SendResult] = []
        self.added = 0
        self.written = 0
        self.waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.more = asyncio.Event()
        self.closing = False
        self.task: asyncio.Task[None] | None = None

    def add(self, results: list[SendResult]) -> int:
        """Queue results for writing; returns the ticket `wait_written` takes."""
        if self.task is None:
            self.task = asyncio.create_task(self._run())
        self._raise_if_failed()
        self.queued.extend(results)
        self.added += len(results)
        self.more.set()
        return self.added

    async def wait_written(self, ticket: int) -> None:
        """Wait until every result queued up to `ticket` is written. Raises the error of a
        write that failed, so the send stops rather than going on unrecorded."""
        self._raise_if_failed()
        if self.written >= ticket:
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append((ticket, waiter))
        await waiter

    async def close(self) -> None:
        """Write everything queued; raises the error of a write that failed."""
        self.closing = True
        self.more.set()
        if self.task is not None:
            await self.task

    def _raise_if_failed(self) -> None:
        if self.task is not None and self.task.done():
            self.task.result()

    async def _run(self) -> None:
        try:
            while True:
                await self.more.wait()
                self.more.clear()
                while self.queued:
                    batch, self.queued = self.queued, []
                    await self.write(batch)
                    self.written += len(batch)
                    self._release(lambda ticket: ticket <= self.written)
                if self.closing:
                    self._release(lambda ticket: True)
                    return
        except BaseException as exc:
            self._release(lambda ticket: True, exc)
            raise

    def _release(self, due: Callable[[int], bool], error: BaseException | None = None) -> None:
        waiting = []
        for ticket, waiter in self.waiters:
            if not due(ticket):
                waiting.append((ticket, waiter))
            elif waiter.done():
                pass
            elif error is None:
                waiter.set_result(None)
            elif isinstance(error, asyncio.CancelledError):
                waiter.cancel()
            else:
                waiter.set_exception(error)
        self.waiters = waiting
