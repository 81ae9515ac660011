"""What `send --resume` does with deliveries a dead run left in "sending", by provider and
crash policy, and how the rate budget is shared by every process of a send."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.config import Config
from pipeline.db import deliveries
from pipeline.environment import DEVELOPMENT_SECRET_KEY
from pipeline.issue.build import build_issue
from pipeline.send.compose import Composer
from pipeline.send.dispatcher import deliver
from pipeline.send.ledger import recipients
from pipeline.send.rate import RateBudget
from tests.conftest import Project
from tests.send.conftest import Loopback, add_readers
from tests.send.loopback_provider import LoopbackProvider, SettlingLoopbackProvider


class DeduplicatingLoopback(LoopbackProvider):
    """Stands for Brevo: the service drops a repeated idempotency key by itself."""

    deduplicates_retries = True


def _interrupted_issue(project: Project, policy: str) -> tuple[sa.Engine, Config, int]:
    """An issue of 100 readers whose first 30 deliveries a dead run left in "sending"."""
    engine = project.engine()
    add_readers(engine, 100)
    config = project.config()
    settings = {"crash_policy": policy, "rate_per_s": 100_000.0}
    config = config.model_copy(update={"provider": config.provider.model_copy(update=settings)})
    issue_id = build_issue(engine, config, db.now()).id
    with engine.begin() as connection:
        first = sa.select(deliveries.c.id).order_by(deliveries.c.id).limit(30).scalar_subquery()
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(first))
            .values(state="sending", attempts=1, lease_owner="dead-host:1")
        )
    return engine, config, issue_id


@pytest.mark.parametrize(
    ("policy", "provider", "unsettled", "resent"),
    [
        ("at_most_once", LoopbackProvider, 30, 0),
        ("at_least_once", LoopbackProvider, 0, 30),
        ("at_most_once", DeduplicatingLoopback, 0, 30),
    ],
)
def test_resume_settles_interrupted_deliveries_by_policy(
    send_project: Project,
    loopback: Loopback,
    policy: str,
    provider: type[LoopbackProvider],
    unsettled: int,
    resent: int,
) -> None:
    engine, config, issue_id = _interrupted_issue(send_project, policy)
    client = provider(loopback.url, max_batch=50)
    summary = deliver(engine, config, issue_id, client, DEVELOPMENT_SECRET_KEY, resume=True)
    assert summary.settlement.unsettled == unsettled and summary.settlement.resent == resent
    assert summary.unsettled == unsettled and summary.sent == 100 - unsettled
    assert len(loopback.received()) == 100 - unsettled


def test_a_provider_that_can_be_asked_settles_without_doubles(
    send_project: Project, loopback: Loopback
) -> None:
    engine, config, issue_id = _interrupted_issue(send_project, "at_most_once")
    client = SettlingLoopbackProvider(loopback.url, max_batch=10)
    # The dead run had handed the first 10 of its 30 to the service before it died.
    with engine.connect() as connection:
        first_ten = connection.execute(
            sa.select(deliveries.c.id).order_by(deliveries.c.id).limit(10)
        ).scalars()
        keys = [f"1-{d}" for d in first_ten]
    accepted = LoopbackProvider(loopback.url, max_batch=10)

    async def hand_over() -> None:
        with engine.connect() as connection:
            composer = Composer(
                connection,
                issue_id,
                config.site,
                DEVELOPMENT_SECRET_KEY,
                bounces=config.bounces,
            )
            batch = recipients(connection, [int(k.split("-")[1]) for k in keys])
        await accepted.send_batch([composer.compose(r) for r in batch])
        await accepted.close()

    asyncio.run(hand_over())
    summary = deliver(engine, config, issue_id, client, DEVELOPMENT_SECRET_KEY, resume=True)
    assert summary.settlement.confirmed == 10 and summary.settlement.resent == 20
    assert summary.sent == 100 and summary.unsettled == 0
    received = loopback.received()
    assert len(received) == 100 and max(received.values()) == 1


def test_the_rate_budget_is_shared_by_every_process_of_a_send(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with engine.begin() as connection:
        issue_id = connection.execute(
            sa.insert(db.issues)
            .values(number=1, subject="s", state="sending", created_at=db.now())
            .returning(db.issues.c.id)
        ).scalar_one()
    # Two processes' budgets for one send at 100 recipients a second.
    first, second = RateBudget(engine, issue_id, 100), RateBudget(engine, issue_id, 100)
    waits = [
        first.reserve(100)[0],
        second.reserve(100)[0],
        first.reserve(100)[0],
        second.reserve(50)[0],
    ]
    assert waits == pytest.approx([0.0, 1.0, 2.0, 2.5], abs=0.1)
