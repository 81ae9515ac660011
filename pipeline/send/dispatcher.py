"""The dispatcher: claims batches from the ledger, composes them, hands them to the provider.

One send runs `provider.concurrency` workers on one event loop. Each worker, in a loop:
reserves the batch's recipients from the shared rate budget, claims that many pending rows
(marking them "sending" under a lease, right before the call, so a crash catches as few as
possible), composes the messages, calls the provider (retrying with backoff), and hands
the outcome to the recorder, which writes it in the background (pipeline/send/recorder.py).
Database calls run on one thread of their own so the provider calls of the other workers
go on meanwhile. The first call goes alone: a provider that refuses the
credentials stops the send after that one call.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import now
from pipeline.errors import PermanentProviderError, RetryableProviderError
from pipeline.send import ledger
from pipeline.send.compose import Composer
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers import Provider
from pipeline.send.rate import RateBudget
from pipeline.send.recorder import Recorder
from pipeline.send.retry import RetryPolicy
from pipeline.send.settle import Settlement, settle_interrupted
from pipeline.tokens import SecretKeys

Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class DeliverySummary:
    counts: dict[str, int]
    """Rows of the issue by state, after this run."""
    delivered_now: int = 0
    """Messages the provider accepted in this run."""
    elapsed_s: float = 0.0
    settlement: Settlement = field(default_factory=Settlement)
    failure_reasons: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def unsettled(self) -> int:
        return self.counts.get("unsettled", 0)

    @property
    def cancelled(self) -> int:
        return self.counts.get("cancelled", 0)

    @property
    def rate_per_s(self) -> float:
        return self.delivered_now / self.elapsed_s if self.elapsed_s else 0.0


def batch_size(config: Config, provider: Provider) -> int:
    """The provider's batch, never more than one second of the rate limit."""
    limit = config.provider.max_batch or provider.max_batch
    return max(1, min(limit, provider.max_batch, int(config.provider.rate_per_s)))


MIN_CLAIM = 50
"""Rows claimed at once when batches are smaller: one durable claim per small call would
make the disk's flush the limit. A crash leaves at most one claim per worker unsettled."""


def claim_size(batch: int, rate_per_s: float, lease_s: float) -> int:
    """Several small calls' rows at once, but never more than half a lease's worth at the
    rate limit: a claim must be sent before its lease runs out and others take it over."""
    within_lease = int(rate_per_s * lease_s / 2) // batch * batch
    return max(batch, min(batch * max(1, MIN_CLAIM // batch), within_lease))


def deliver(
    engine: sa.Engine,
    config: Config,
    issue_id: int,
    provider: Provider,
    secret_key: SecretKeys,
    progress: Progress = lambda _done: None,
    *,
    resume: bool = False,
    take_over_expired: bool = False,
    stop: threading.Event | None = None,
    retry: RetryPolicy | None = None,
) -> DeliverySummary:
    """Deliver the issue's pending rows.

    `resume` (an operator's `send --resume`) first settles every row a dead run left in
    "sending"; `take_over_expired` (a worker joining a send) only those whose lease ran
    out. Setting `stop` ends the run after the calls in flight: claimed rows not yet sent
    go back to pending. Raises PermanentProviderError when the provider refuses the send
    as a whole; the rows not yet sent stay pending for `send --resume`.
    """
    policy = retry or RetryPolicy(max_attempts=config.provider.max_attempts)
    run = _Run(engine, config, issue_id, provider, secret_key, progress, policy)
    run.stop = stop or threading.Event()
    return asyncio.run(run.deliver(resume, take_over_expired))


class _Run:
    def __init__(
        self,
        engine: sa.Engine,
        config: Config,
        issue_id: int,
        provider: Provider,
        secret_key: SecretKeys,
        progress: Progress,
        retry: RetryPolicy,
    ):
        self.engine = engine
        self.config = config
        self.issue_id = issue_id
        self.provider = provider
        self.progress = progress
        self.retry = retry
        with engine.connect() as connection:
            self.composer = Composer(
                connection,
                issue_id,
                config.site,
                secret_key,
                bounces=config.bounces,
            )
        self.budget = RateBudget(engine, issue_id, config.provider.rate_per_s)
        self.batch_size = batch_size(config, provider)
        self.claim_size = claim_size(
            self.batch_size, config.provider.rate_per_s, config.provider.lease_s
        )
        self.database = ThreadPoolExecutor(1, thread_name_prefix="ledger")
        self.recorder = Recorder(self.write_results)
        self.first_call_done = asyncio.Event()
        self.stopped: PermanentProviderError | None = None
        self.stop = threading.Event()
        self.delivered = 0

    async def db(self, call: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.database, partial(call, *args))

    async def deliver(self, resume: bool, take_over_expired: bool) -> DeliverySummary:
        started = time.monotonic()
        settlement = Settlement()
        try:
            if resume or take_over_expired:
                settlement = await settle_interrupted(
                    self.engine,
                    self.issue_id,
                    self.provider,
                    self.config.provider.crash_policy,
                    self.composer,
                    expired_before=now() if take_over_expired else None,
                )
            try:
                await self.run_workers()
            finally:
                await self.recorder.close()
        finally:
            await self.provider.close()
            self.database.shutdown()
        if self.stopped is not None:
            raise self.stopped
        ledger.finish_if_done(self.engine, self.issue_id)
        with self.engine.connect() as connection:
            counts = ledger.counts(connection, self.issue_id)
            reasons = ledger.failure_reasons(connection, self.issue_id)
        return DeliverySummary(
            counts, self.delivered, time.monotonic() - started, settlement, reasons
        )

    async def run_workers(self) -> None:
        """Run the workers; the first one's error stops the others before it is raised, so
        none goes on sending after the send has failed."""
        workers = [
            asyncio.create_task(self.worker(n)) for n in range(self.config.provider.concurrency)
        ]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise

    async def worker(self, number: int) -> None:
        try:
            await self._work(number)
        finally:
            # However the first worker ends (stopped before its first call, say), the
            # others must not wait for it for ever.
            self.first_call_done.set()

    async def _work(self, number: int) -> None:
        if number > 0:
            await self.first_call_done.wait()
        written = 0
        while self.stopped is None and not self.stop.is_set():
            # The last claim's results in the ledger first: a crash leaves at most the
            # claim in hand of each worker in "sending".
            await self.recorder.wait_written(written)
            claimed = await self.db(self.claim)
            if not claimed:
                self.first_call_done.set()
                return
            for start in range(0, len(claimed), self.batch_size):
                if self.stopped is not None or self.stop.is_set():
                    await self.db(ledger.release, self.engine, _ids(claimed[start:]))
                    return
                await self.pace(self.batch_size)
                batch = claimed[start : start + self.batch_size]
                try:
                    results = await self.send(self.composer.compose_batch(batch))
                except PermanentProviderError as exc:
                    self.stopped = _stopping(exc)
                    self.first_call_done.set()
                    await self.db(ledger.release, self.engine, _ids(claimed[start:]))
                    return
                written = self.record(results)
                self.first_call_done.set()
                self.progress(len(batch))

    def claim(self) -> list[ledger.Recipient]:
        return ledger.claim_batch(
            self.engine, self.issue_id, self.claim_size, lease_s=self.config.provider.lease_s
        )

    async def pace(self, recipients: int) -> None:
        """Wait until the shared rate budget allows `recipients` more."""
        if self.budget.take_allowance(recipients):
            return
        wait, extra = await self.db(self.budget.reserve, recipients)
        self.budget.add_allowance(extra)
        await asyncio.sleep(wait)

    def record(self, results: list[SendResult]) -> int:
        """Hand results to the recorder; returns its ticket for them."""
        self.delivered += sum(1 for r in results if r.ok)
        return self.recorder.add(results)

    async def write_results(self, results: list[SendResult]) -> None:
        await self.db(ledger.record_results, self.engine, results)

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """One provider call, retried with backoff; after the last attempt, all failed."""
        attempt = 1
        while True:
            try:
                return await self.provider.send_batch(messages)
            except RetryableProviderError as exc:
                if attempt >= self.retry.max_attempts:
                    reason = f"gave up after {attempt} attempts: {exc}"
                    return [SendResult(m.delivery_id, error=reason) for m in messages]
                wait = self.retry.delay(attempt, exc.retry_after_s)
                ids = [m.delivery_id for m in messages]
                lease_s = self.config.provider.lease_s
                still_ours = await self.db(ledger.retry_claimed, self.engine, ids, wait, lease_s)
                messages = [m for m in messages if m.delivery_id in still_ours]
                if not messages:
                    return []
                await asyncio.sleep(wait)
                await self.pace(len(messages))
                attempt += 1


def _ids(recipients: Sequence[ledger.Recipient]) -> list[int]:
    return [r.delivery_id for r in recipients]


def _stopping(exc: PermanentProviderError) -> PermanentProviderError:
    return PermanentProviderError(
        f"the mail service refused the send, so it stopped: {exc}. Nothing more was sent; "
        "fix the cause, then run `newsletter send --resume`"
    )
