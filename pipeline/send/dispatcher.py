"""The dispatcher: claims batches from the ledger, composes, hands them to the provider."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import deliveries, now
from pipeline.send import ledger
from pipeline.send.compose import Composer
from pipeline.send.providers import Provider

Progress = Callable[[int], None]


@dataclass(frozen=True)
class DeliverySummary:
    counts: dict[str, int]

    @property
    def sent(self) -> int:
        return self.counts.get("sent", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)

    @property
    def unsettled(self) -> int:
        return self.counts.get("unsettled", 0)


def settle_interrupted(engine: sa.Engine, issue_id: int, crash_policy: str) -> int:
    """Rows left in "sending" by a dead run: sent again (at_least_once) or reported."""
    state = "pending" if crash_policy == "at_least_once" else "unsettled"
    with engine.begin() as connection:
        result = connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.issue_id == issue_id, deliveries.c.state == "sending")
            .values(state=state, updated_at=now())
        )
    return result.rowcount


def deliver(
    engine: sa.Engine,
    config: Config,
    issue_id: int,
    provider: Provider,
    secret_key: str,
    progress: Progress = lambda _done: None,
) -> DeliverySummary:
    return asyncio.run(_deliver(engine, config, issue_id, provider, secret_key, progress))


async def _deliver(
    engine: sa.Engine,
    config: Config,
    issue_id: int,
    provider: Provider,
    secret_key: str,
    progress: Progress,
) -> DeliverySummary:
    with engine.connect() as connection:
        composer = Composer(connection, issue_id, config.site, secret_key)
    try:
        while batch := ledger.claim_batch(engine, issue_id, provider.max_batch):
            messages = [composer.compose(recipient) for recipient in batch]
            results = await provider.send_batch(messages)
            ledger.record_results(engine, results)
            progress(len(batch))
    finally:
        await provider.close()
    ledger.finish_if_done(engine, issue_id)
    with engine.connect() as connection:
        return DeliverySummary(ledger.counts(connection, issue_id))
