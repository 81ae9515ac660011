"""The daemon's daily retention run: planned every night, run at once when a night was
missed, and what it did written where `status` reads the jobs' outcomes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.db import schedule_events
from pipeline.schedule import jobs
from pipeline.schedule.daemon import make_scheduler, plan_jobs
from subscribers import store
from tests.conftest import Project
from tests.report.reach_rows import click, named_rows, sent_issue


def _plan(project: Project, at: object) -> tuple[dict[str, str], object]:
    config, engine = project.config(), project.engine()
    scheduler = make_scheduler(engine, config)
    plan = plan_jobs(scheduler, config, project.config_path, engine, at)  # type: ignore[arg-type]
    scheduler.start(paused=True)
    next_run = scheduler.get_job("retention").next_run_time
    scheduler.shutdown()
    return plan, next_run


@pytest.fixture
def upgraded(project: Project) -> Project:
    project.run("db", "upgrade")
    return project


def test_retention_runs_every_night_at_3_40_local_time(upgraded: Project) -> None:
    plan, next_run = _plan(upgraded, db.now())
    assert plan["retention"] == "scheduled"
    assert (next_run.hour, next_run.minute) == (3, 40)
    assert str(next_run.tzinfo) == "Europe/Berlin"
    assert timedelta(0) < next_run - db.now() <= timedelta(days=1)


def test_a_night_missed_while_the_daemon_was_down_runs_at_once(upgraded: Project) -> None:
    _plan_now, next_run = _plan(upgraded, db.now())
    plan, _ = _plan(upgraded, next_run + timedelta(hours=2))  # type: ignore[operator]
    assert plan["retention"] == "now"


def test_the_job_anonymises_old_clicks_and_records_what_it_did(upgraded: Project) -> None:
    upgraded.edit_config(lambda raw: raw.update(analytics={"retention_days": 30}))
    engine = upgraded.engine()
    now = db.now()
    with engine.begin() as connection:
        reader = store.add(
            connection,
            email="anna@example.org",
            state="active",
            consent=store.Consent("admin", "test", now),
        )
        store.give_stats_consent(connection, reader.id, now - timedelta(days=60), "1", "test")
        issue = sent_issue(connection, 1, ["https://example.org/a"], now - timedelta(days=40))
        click(connection, issue, 1, now - timedelta(days=31), reader.id)
        click(connection, issue, 1, now - timedelta(days=29), reader.id)
    jobs.retention_job(str(upgraded.config_path))
    with engine.connect() as connection:
        assert named_rows(connection, reader.id) == (1, 0)
        events = connection.execute(
            sa.select(schedule_events.c.job, schedule_events.c.outcome, schedule_events.c.detail)
        ).all()
    assert [tuple(e) for e in events] == [
        ("retention", "ok", "1 click(s) and 0 open(s) anonymised")
    ]
