"""The dispatcher against the loopback mail service over real HTTP, on both engines:
throttling, outages, timeouts and refused credentials only slow a send down or stop it
cleanly; every reader gets the issue once."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.config import Config
from pipeline.db import deliveries, issues
from pipeline.environment import DEVELOPMENT_SECRET_KEY
from pipeline.errors import PermanentProviderError
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import DeliverySummary, deliver
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers.sendgrid import SendGridProvider
from pipeline.send.retry import RetryPolicy
from tests.conftest import Project
from tests.providers.fake_apis import TOKEN, FakeSendGrid
from tests.providers.fake_http import FakeServer
from tests.send.conftest import Loopback, add_readers
from tests.send.loopback_provider import LoopbackProvider

FAST_RETRIES = RetryPolicy(max_attempts=5, base_s=0.01, cap_s=0.05)


def _config(project: Project, **provider: object) -> Config:
    config = project.config()
    settings = {"rate_per_s": 100_000.0, "concurrency": 2} | provider
    return config.model_copy(update={"provider": config.provider.model_copy(update=settings)})


def _send(
    project: Project,
    loopback: Loopback,
    readers: int,
    *,
    invalid: int = 0,
    max_batch: int = 50,
    retry: RetryPolicy = FAST_RETRIES,
    timeout_s: float = 5,
    **provider: object,
) -> tuple[int, DeliverySummary]:
    engine = project.engine()
    add_readers(engine, readers, invalid=invalid)
    config = _config(project, **provider)
    issue_id = build_issue(engine, config, db.now()).id
    client = LoopbackProvider(loopback.url, max_batch=max_batch, timeout_s=timeout_s)
    return issue_id, deliver(engine, config, issue_id, client, DEVELOPMENT_SECRET_KEY, retry=retry)


def _states(project: Project, issue_id: int) -> dict[str, int]:
    with project.engine().connect() as connection:
        rows = connection.execute(
            sa.select(deliveries.c.state, sa.func.count())
            .where(deliveries.c.issue_id == issue_id)
            .group_by(deliveries.c.state)
        ).all()
    return dict(rows)


def test_every_reader_gets_the_issue_once(send_project: Project, loopback: Loopback) -> None:
    issue_id, summary = _send(send_project, loopback, 1000, concurrency=4)
    assert summary.sent == 1000 and summary.delivered_now == 1000
    received = loopback.received()
    assert len(received) == 1000 and set(received.values()) == {1}
    assert loopback.stats()["calls"] == 20
    with send_project.engine().connect() as connection:
        issue = connection.execute(sa.select(issues.c.state).where(issues.c.id == issue_id))
        assert issue.scalar_one() == "sent"
        message_ids = connection.execute(sa.select(deliveries.c.provider_message_id)).scalars()
        assert all(m and m.startswith("lb-") for m in message_ids)


def test_throttled_send_waits_for_retry_after_and_finishes(
    send_project: Project, loopback: Loopback
) -> None:
    loopback.faults("429:1", "429:1")
    started = time.monotonic()
    _, summary = _send(send_project, loopback, 200, concurrency=1)
    assert time.monotonic() - started >= 2.0, "both Retry-After: 1 were honoured"
    assert summary.sent == 200 and summary.failed == 0
    assert loopback.stats()["calls"] == 4 + 2
    assert set(loopback.received().values()) == {1}


def test_a_storm_of_server_errors_only_slows_the_send(
    send_project: Project, loopback: Loopback
) -> None:
    loopback.faults("ok", *["500"] * 6)
    _, summary = _send(send_project, loopback, 300, concurrency=3)
    assert summary.sent == 300 and summary.failed == 0
    assert loopback.stats()["calls"] == 6 + 6


def test_timeouts_and_dropped_connections_are_retried(
    send_project: Project, loopback: Loopback
) -> None:
    loopback.faults("timeout:1", "drop", "timeout:1")
    _, summary = _send(send_project, loopback, 100, concurrency=1, timeout_s=0.3)
    assert summary.sent == 100
    assert set(loopback.received().values()) == {1}


def test_a_batch_failing_every_attempt_is_failed_with_the_reason(
    send_project: Project, loopback: Loopback
) -> None:
    loopback.faults("500", "500", "500")
    retry = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.05)
    issue_id, summary = _send(send_project, loopback, 120, concurrency=1, retry=retry)
    assert summary.failed == 50 and summary.sent == 70
    assert summary.failure_reasons == ["50 × gave up after 3 attempts: loopback answered 500"]
    assert _states(send_project, issue_id) == {"sent": 70, "failed": 50}


def test_a_refused_address_fails_alone(send_project: Project, loopback: Loopback) -> None:
    _, summary = _send(send_project, loopback, 100, invalid=3)
    assert summary.sent == 97 and summary.failed == 3
    assert summary.failure_reasons == ["3 × invalid recipient address"]


def test_refused_credentials_stop_the_send_after_one_call(
    send_project: Project, loopback: Loopback
) -> None:
    loopback.faults("401")
    with pytest.raises(PermanentProviderError, match=r"refused the send.*401.*--resume"):
        _send(send_project, loopback, 2000, concurrency=8)
    assert loopback.stats()["calls"] == 1
    assert loopback.received() == {}
    engine = send_project.engine()
    with engine.connect() as connection:
        issue_id, state = connection.execute(sa.select(issues.c.id, issues.c.state)).one()
    assert state == "sending"
    assert _states(send_project, issue_id) == {"pending": 2000}
    client = LoopbackProvider(loopback.url, max_batch=50)
    config = _config(send_project)
    summary = deliver(
        engine, config, issue_id, client, DEVELOPMENT_SECRET_KEY, resume=True, retry=FAST_RETRIES
    )
    assert summary.sent == 2000 and summary.settlement.total == 0


def test_cancelled_deliveries_are_never_sent(send_project: Project, loopback: Loopback) -> None:
    engine = send_project.engine()
    add_readers(engine, 100)
    config = _config(send_project)
    issue_id = build_issue(engine, config, db.now()).id
    with engine.begin() as connection:
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.issue_id == issue_id, deliveries.c.id % 10 == 0)
            .values(state="cancelled")
        )
    client = LoopbackProvider(loopback.url, max_batch=50)
    summary = deliver(engine, config, issue_id, client, DEVELOPMENT_SECRET_KEY)
    assert summary.cancelled == 10 and summary.sent == 90
    assert len(loopback.received()) == 90
    assert _states(send_project, issue_id) == {"sent": 90, "cancelled": 10}


class _BrokenOnThirdCall(LoopbackProvider):
    """A provider with a bug: its third call raises something no send expects."""

    calls = 0

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("a bug in the provider")
        return await super().send_batch(messages)


def test_an_unexpected_error_stops_every_worker_and_keeps_what_was_sent(
    send_project: Project, loopback: Loopback
) -> None:
    engine = send_project.engine()
    add_readers(engine, 2000)
    config = _config(send_project, concurrency=4)
    issue_id = build_issue(engine, config, db.now()).id
    client = _BrokenOnThirdCall(loopback.url, max_batch=50)
    with pytest.raises(RuntimeError, match="a bug in the provider"):
        deliver(engine, config, issue_id, client, DEVELOPMENT_SECRET_KEY, retry=FAST_RETRIES)
    calls = loopback.stats()["calls"]
    time.sleep(0.3)
    assert loopback.stats()["calls"] == calls, "a worker went on sending after the failure"
    states = _states(send_project, issue_id)
    # Every message the service accepted is recorded as sent; nothing else is.
    assert states.get("sent", 0) == len(loopback.received())
    assert states.get("sent", 0) + states.get("sending", 0) + states.get("pending", 0) == 2000


def test_calls_are_filled_with_one_language_at_a_time(send_project: Project) -> None:
    """A call carries one variant's body; readers of two languages interleaved in the
    audience still fill each call (100 a call: German 100, 100 and 40, English 60)."""
    engine = send_project.engine()
    add_readers(engine, 300)  # every fifth reader reads English: 240 German, 60 English
    config = _config(send_project, max_batch=100)
    issue_id = build_issue(engine, config, db.now()).id
    api = FakeSendGrid()
    server = FakeServer(api.handle).start()
    try:
        provider = SendGridProvider(TOKEN, base_url=server.url, max_batch=100)
        summary = deliver(engine, config, issue_id, provider, DEVELOPMENT_SECRET_KEY)
    finally:
        server.stop()
    assert summary.sent == 300
    assert sorted(len(r.json()["personalizations"]) for r in server.requests) == [40, 60, 100, 100]
    assert len({d.key for d in api.delivered}) == 300
