"""The recorder writes every result, lets a worker wait for exactly its own, and never
hides a failed write."""

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
        recorder = Recorder(write)
        for start in range(0, 50, 5):
            recorder.add(_results(start, 5))
            await asyncio.sleep(0)
        await recorder.close()

    asyncio.run(send())
    assert sorted(n for batch in written for n in batch) == list(range(50))
    assert len(written) < 10, "results that queued up together are written together"


def test_a_worker_waits_until_its_results_are_written() -> None:
    release = asyncio.Event()
    written: list[int] = []

    async def write(results: list[SendResult]) -> None:
        await release.wait()
        written.extend(r.delivery_id for r in results)

    async def send() -> None:
        recorder = Recorder(write)
        ticket = recorder.add(_results(0, 5))
        waiting = asyncio.create_task(recorder.wait_written(ticket))
        await asyncio.sleep(0.05)
        assert not waiting.done(), "returned before the results were written"
        release.set()
        await waiting
        assert written == [0, 1, 2, 3, 4]
        await recorder.wait_written(ticket)  # already written: back at once
        await recorder.close()

    asyncio.run(send())


def test_a_failed_write_reaches_the_waiting_worker_and_the_close() -> None:
    async def write(results: list[SendResult]) -> None:
        await asyncio.sleep(0.01)
        raise OSError("disk full")

    async def send() -> None:
        recorder = Recorder(write)
        ticket = recorder.add(_results(0, 3))
        with pytest.raises(OSError, match="disk full"):
            await asyncio.wait_for(recorder.wait_written(ticket), timeout=5)
        with pytest.raises(OSError, match="disk full"):
            recorder.add(_results(3, 3))
        with pytest.raises(OSError, match="disk full"):
            await recorder.close()

    asyncio.run(send())
