"""The recorder writes every result, holds workers back at its backlog, and never hides a
failed write."""

from __future__ import annotations

import asyncio

import pytest

from pipeline.send.message import SendResult
from pipeline.send.recorder import Recorder


def _results(start: int, count: int) -> list[SendResult]:
    return [SendResult(n, provider_message_id=f"m-{n}") for n in range(start, start + count)]


def test_every_result_is_written_once_by_close() -> None:
    written: list[list[int]] = []

    async def write(results: list[SendResult]) -> None:
        await asyncio.sleep(0.01)
        written.append([r.delivery_id for r in results])

    async def send() -> None:
        recorder = Recorder(write, backlog=1_000)
        for start in range(0, 50, 5):
            await recorder.add(_results(start, 5))
        await recorder.close()

    asyncio.run(send())
    assert sorted(n for batch in written for n in batch) == list(range(50))
    assert len(written) < 10, "results that queued up together are written together"


def test_a_full_backlog_holds_the_worker_until_written() -> None:
    release = asyncio.Event()
    pending_when_back: list[int] = []

    async def write(results: list[SendResult]) -> None:
        await release.wait()

    async def send() -> None:
        recorder = Recorder(write, backlog=10)
        await recorder.add(_results(0, 5))  # under the backlog: back at once
        adding = asyncio.create_task(recorder.add(_results(5, 5)))
        await asyncio.sleep(0.05)
        assert not adding.done()
        release.set()
        await adding
        pending_when_back.append(len(recorder.queued) + recorder.writing)
        await recorder.close()

    asyncio.run(send())
    assert pending_when_back[0] < 10


def test_a_failed_write_stops_the_workers_and_is_raised() -> None:
    async def write(results: list[SendResult]) -> None:
        raise OSError("disk full")

    async def send() -> None:
        recorder = Recorder(write, backlog=3)
        with pytest.raises(OSError, match="disk full"):
            for start in range(0, 30, 3):
                await asyncio.wait_for(recorder.add(_results(start, 3)), timeout=5)
        with pytest.raises(OSError, match="disk full"):
            await recorder.close()

    asyncio.run(send())
