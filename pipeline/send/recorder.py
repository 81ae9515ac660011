"""Writing a send's results to the ledger in the background, while the next calls go out.

A worker that waited for its own results to be written spent most of a one-message call
waiting for the ledger thread (its turn on the interpreter lock included): at 16 calls
in flight, each wait held back the next call. The recorder writes whatever results have
queued up in one transaction, again and again; a worker only waits when `backlog`
results are queued or being written, so a crash leaves at most that many sent but not
recorded, beyond the calls in flight (`send --resume` settles them like those).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pipeline.send.message import SendResult

Write = Callable[[list[SendResult]], Awaitable[None]]


class Recorder:
    def __init__(self, write: Write, backlog: int):
        self.write = write
        self.backlog = backlog
        self.queued: list[SendResult] = []
        self.writing = 0
        self.more = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self.closing = False
        self.task: asyncio.Task[None] | None = None

    async def add(self, results: list[SendResult]) -> None:
        """Queue results for writing; waits while the backlog is full. Raises the error of
        a write that failed, so a send stops rather than sending on unrecorded."""
        if self.task is None:
            self.task = asyncio.create_task(self._run())
        self._raise_if_failed()
        self.queued.extend(results)
        self.more.set()
        while len(self.queued) + self.writing >= self.backlog and not self.task.done():
            self.room.clear()
            await self.room.wait()
        self._raise_if_failed()

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
                    self.writing = len(batch)
                    await self.write(batch)
                    self.writing = 0
                    self.room.set()
                if self.closing:
                    return
        finally:
            self.room.set()  # a failed write must not leave workers waiting for room
