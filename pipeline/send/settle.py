"""Settling rows caught in "sending" by a crash: was the message accepted or not?

In order of certainty: a provider that can be asked (SettlingProvider) says which it
accepted, and the rest are sent again; a provider that drops repeated calls gets them all
again; otherwise `provider.crash_policy` decides: `at_least_once` sends them again,
`at_most_once` (the default) marks them "unsettled" and reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import deliveries, now
from pipeline.send import ledger
from pipeline.send.compose import Composer
from pipeline.send.providers.base import Provider, SettlingProvider

CHUNK = 500


@dataclass(frozen=True)
class Settlement:
    confirmed: int = 0
    """Found accepted by the provider and recorded as sent."""
    resent: int = 0
    """Put back to pending, to be sent (again)."""
    unsettled: int = 0
    """Marked unsettled: they may or may not have arrived."""

    @property
    def total(self) -> int:
        return self.confirmed + self.resent + self.unsettled


async def settle_interrupted(
    engine: sa.Engine,
    issue_id: int,
    provider: Provider,
    crash_policy: str,
    composer: Composer,
    *,
    expired_before: datetime | None = None,
) -> Settlement:
    """Settle the issue's rows in "sending": all of them (an operator's `send --resume`),
    or only those whose lease ran out before `expired_before` (a worker taking over)."""
    if isinstance(provider, SettlingProvider):
        return await _ask_provider(engine, issue_id, provider, composer, expired_before)
    state = (
        "pending"
        if provider.deduplicates_retries or crash_policy == "at_least_once"
        else "unsettled"
    )
    with engine.begin() as connection:
        moved = connection.execute(
            sa.update(deliveries)
            .where(*_interrupted(issue_id, expired_before))
            .values(state=state, lease_owner=None, lease_expires_at=None, updated_at=now())
        ).rowcount
    if state == "pending":
        return Settlement(resent=moved)
    return Settlement(unsettled=moved)


def _interrupted(issue_id: int, expired_before: datetime | None) -> list[sa.ColumnElement[bool]]:
    where = [deliveries.c.issue_id == issue_id, deliveries.c.state == "sending"]
    if expired_before is not None:
        where.append(deliveries.c.lease_expires_at < expired_before)
    return where


async def _ask_provider(
    engine: sa.Engine,
    issue_id: int,
    provider: SettlingProvider,
    composer: Composer,
    expired_before: datetime | None,
) -> Settlement:
    confirmed = resent = 0
    after = 0
    while batch := _next_interrupted(engine, issue_id, expired_before, after):
        after = batch[-1].delivery_id
        accepted = await provider.find_accepted(composer.compose_batch(batch))
        _record_settlement(engine, [r.delivery_id for r in batch], accepted)
        confirmed += len(accepted)
        resent += len(batch) - len(accepted)
    return Settlement(confirmed=confirmed, resent=resent)


def _next_interrupted(
    engine: sa.Engine, issue_id: int, expired_before: datetime | None, after: int
) -> list[ledger.Recipient]:
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                sa.select(deliveries.c.id)
                .where(*_interrupted(issue_id, expired_before), deliveries.c.id > after)
                .order_by(deliveries.c.id)
                .limit(CHUNK)
            ).scalars()
        )
        return ledger.recipients(connection, ids) if ids else []


def _record_settlement(engine: sa.Engine, ids: Sequence[int], accepted: dict[int, str]) -> None:
    at = now()
    cleared = {"lease_owner": None, "lease_expires_at": None, "updated_at": at}
    with engine.begin() as connection:
        if accepted:
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == sa.bindparam("delivery"))
                .values(state="sent", provider_message_id=sa.bindparam("message"), **cleared),
                [{"delivery": d, "message": m} for d, m in accepted.items()],
            )
        others = [i for i in ids if i not in accepted]
        if others:
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id.in_(others), deliveries.c.state == "sending")
                .values(state="pending", **cleared)
            )
