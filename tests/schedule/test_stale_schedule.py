"""A send missed while the daemon was down goes out only if it is not too late."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.db import schedule_events
from pipeline.schedule import jobs
from pipeline.schedule.daemon import make_scheduler, plan_jobs
from tests.conftest import TEST_SECRET_KEY, Project


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The jobs run in this process, and read the key from its environment as the daemon's do."""
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", TEST_SECRET_KEY)


def _run_daemon_once(project: Project) -> datetime:
    """Start and stop a daemon's scheduler; returns when it planned the next send."""
    config, engine = project.config(), project.engine()
    scheduler = make_scheduler(engine, config)
    plan_jobs(scheduler, config, project.config_path, engine, db.now())
    scheduler.start()
    next_send: datetime = scheduler.get_job("send").next_run_time
    scheduler.shutdown()
    return next_send


def _restart_daemon_at(project: Project, at: datetime) -> dict[str, str]:
    """The plan of the collect and send jobs (the daily retention run has its own tests,
    tests/schedule/test_retention_job.py: whether it missed a night depends on the day)."""
    config, engine = project.config(), project.engine()
    plan = plan_jobs(make_scheduler(engine, config), config, project.config_path, engine, at)
    return {job: plan[job] for job in ("collect", "send")}


def _events(project: Project) -> list[tuple[str, str, str]]:
    with project.engine().connect() as connection:
        rows = connection.execute(
            sa.select(schedule_events.c.job, schedule_events.c.outcome, schedule_events.c.detail)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_send_missed_by_minutes_runs_at_once(ready_project: Project) -> None:
    due = _run_daemon_once(ready_project)
    plan = _restart_daemon_at(ready_project, due + timedelta(minutes=10))
    assert plan == {"collect": "now", "send": "now"}
    assert _events(ready_project) == []


def test_send_missed_by_hours_is_skipped_and_reported(ready_project: Project) -> None:
    due = _run_daemon_once(ready_project)
    plan = _restart_daemon_at(ready_project, due + timedelta(hours=5))
    assert plan == {"collect": "now", "send": "missed"}
    [(job, outcome, detail)] = _events(ready_project)
    assert (job, outcome) == ("send", "missed")
    assert "run `newsletter send` by hand" in detail
    assert "300 min late" in detail


def test_send_job_skips_and_says_why_when_nothing_is_queued(ready_project: Project) -> None:
    jobs.send_job(str(ready_project.config_path))
    jobs.send_job(str(ready_project.config_path))
    outcomes = [(job, outcome) for job, outcome, _ in _events(ready_project)]
    assert outcomes == [("send", "sent"), ("send", "skipped")]
    assert "nothing new to send" in _events(ready_project)[1][2]
    assert len(list(ready_project.outbox.glob("*.eml"))) == 4


def test_send_job_waits_for_approval(ready_project: Project) -> None:
    ready_project.edit_config(lambda raw: raw["issue"].update(require_approval=True))  # type: ignore[union-attr]
    jobs.send_job(str(ready_project.config_path))
    [(_job, outcome, detail)] = _events(ready_project)
    assert outcome == "skipped"
    assert "6 queued item(s) await approval" in detail
    assert not Path(ready_project.outbox).exists()
