"""Scale-out: four worker processes share one 20,000-reader send through PostgreSQL.

Every reader gets the issue once, the rate limit holds for all workers together, and the
batch of a worker killed midway is taken over after its lease (settled by the crash
policy: at_most_once reports it, never sends it twice).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.collect import collect
from pipeline.db import deliveries, issues
from pipeline.errors import ConfigError
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.workers import run_worker
from tests.conftest import REPO, Project, command_environment
from tests.send.conftest import Loopback, add_readers
from tests.send.loopback_provider import LoopbackProvider

READERS = 20_000
RATE_PER_S = 5_000
WORKERS = 4
BATCH = 100


@pytest.fixture
def postgres_project(project: Project, postgres_url: str) -> Project:
    project.edit_config(lambda raw: raw.update(database={"url": postgres_url}))
    project.edit_config(
        lambda raw: raw["provider"].update(
            rate_per_s=RATE_PER_S, concurrency=2, max_batch=BATCH, lease_s=2
        )
    )
    engine = project.engine()
    db.upgrade(engine)
    collect(project.config(), engine)
    return project


def _start_worker(project: Project, loopback: Loopback) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.send.run_worker", str(project.config_path), loopback.url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=command_environment(),
    )


def _kill_holding_a_claim(worker: subprocess.Popen[str], engine: sa.Engine, started: float) -> None:
    """SIGKILL the worker at a moment it holds claimed rows, which is what a crash test
    needs: frozen first (SIGSTOP), so the rows seen are the rows it dies with. Between two
    claims it holds none, and is let go on for a moment."""
    while True:
        assert time.monotonic() - started < 60, "the worker never held a claim"
        worker.send_signal(signal.SIGSTOP)
        time.sleep(0.05)  # a commit it sent just before is visible by now
        if _rows_held(engine, worker.pid) > 0:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            return
        worker.send_signal(signal.SIGCONT)
        time.sleep(0.01)


def _rows_held(engine: sa.Engine, pid: int) -> int:
    """Rows the worker process `pid` holds in "sending" under its lease."""
    owner = f"{socket.gethostname()}:{pid}"
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(deliveries.c.state == "sending", deliveries.c.lease_owner == owner)
            ).scalar_one()
        )


def _issue_state(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(sa.select(issues.c.state)).scalar_one())


def test_four_workers_deliver_each_reader_once_within_the_rate_and_take_over_a_dead_one(
    postgres_project: Project, loopback: Loopback
) -> None:
    engine = postgres_project.engine()
    add_readers(engine, READERS)
    build_issue(engine, postgres_project.config(), db.now())
    started = time.monotonic()
    workers = [_start_worker(postgres_project, loopback) for _ in range(WORKERS)]
    try:
        while sum(loopback.received().values()) < READERS // 4:
            assert time.monotonic() - started < 60, "the workers delivered nothing"
            time.sleep(0.02)
        _kill_holding_a_claim(workers[0], engine, started)
        while _issue_state(engine) != "sent":
            assert time.monotonic() - started < 120, "the issue was never finished"
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=60) for worker in workers[1:]]

    received = loopback.received()
    assert max(received.values()) == 1, "a reader got the issue twice"
    with engine.connect() as connection:
        states = dict(
            connection.execute(
                sa.select(sa.func.concat("1-", deliveries.c.id), deliveries.c.state)
            ).all()
        )
    sent = {key for key, state in states.items() if state == "sent"}
    unsettled = {key for key, state in states.items() if state == "unsettled"}
    # Every row recorded sent arrived; what arrived unrecorded is the dead worker's claim,
    # reported as unsettled (it may or may not have arrived), never sent again.
    assert sent <= set(received)
    assert set(received) <= sent | unsettled
    assert len(sent) + len(unsettled) == READERS
    assert 0 < len(unsettled) <= 2 * BATCH
    # One budget for all: four workers together never outran the configured rate.
    assert elapsed >= 0.9 * len(received) / RATE_PER_S
    for out, err in outputs:
        assert out.strip(), f"a worker ended without its report:\n{err}"
    delivered = [json.loads(out.strip().splitlines()[-1])["delivered"] for out, _ in outputs]
    assert sum(1 for count in delivered if count) >= 2, "the work was not shared"


def test_worker_on_sqlite_explains_that_scale_out_needs_postgresql(ready_project: Project) -> None:
    with pytest.raises(ConfigError, match="need PostgreSQL"):
        run_worker(
            ready_project.engine(),
            ready_project.config(),
            lambda: None,
            "k",  # type: ignore[arg-type,return-value]
            threading.Event(),
        )
    result = ready_project.run("worker", check=False)
    assert result.returncode == 2
    assert "extra workers need PostgreSQL" in result.stderr


def test_a_send_stopped_before_its_first_call_ends_at_once(
    postgres_project: Project, loopback: Loopback
) -> None:
    """A stop that arrives first must end every concurrent sender, not leave them waiting."""
    engine = postgres_project.engine()
    add_readers(engine, 10)
    built = build_issue(engine, postgres_project.config(), db.now())
    stop = threading.Event()
    stop.set()
    finished = threading.Event()

    def send() -> None:
        deliver(
            engine,
            postgres_project.config(),
            built.id,
            LoopbackProvider(loopback.url),
            "key",
            stop=stop,
        )
        finished.set()

    threading.Thread(target=send, daemon=True).start()
    assert finished.wait(20), "the stopped send hung"
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(sa.func.count()).where(deliveries.c.state == "pending")
            ).scalar_one()
            == 10
        )
