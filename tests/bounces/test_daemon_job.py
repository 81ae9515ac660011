"""`newsletter run` reads the bounce mailbox on `schedule.bounces` when there is one; a
mailbox that cannot be reached is a failed run in `status`, never the daemon's end."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.config import BounceMailbox
from pipeline.db import schedule_events
from pipeline.schedule import jobs
from pipeline.schedule.daemon import make_scheduler, plan_jobs
from tests.bounces.helpers import use_mailbox
from tests.conftest import TEST_SECRET_KEY, Project, free_port


def _closed_mailbox() -> BounceMailbox:
    return BounceMailbox(host="127.0.0.1", port=free_port(), username="bounces", tls="none")


def _planned(project: Project) -> dict[str, str]:
    config, engine = project.config(), project.engine()
    scheduler = make_scheduler(engine, config)
    plan = plan_jobs(scheduler, config, project.config_path, engine, db.now())
    assert {job.id for job in scheduler.get_jobs()} == set(plan)
    return plan


def test_the_bounces_job_is_planned_only_with_a_mailbox(ready_project: Project) -> None:
    assert "bounces" not in _planned(ready_project)
    use_mailbox(ready_project, _closed_mailbox())
    ready_project.edit_config(lambda raw: raw["schedule"].update(bounces="*/7 * * * *"))
    assert _planned(ready_project)["bounces"] == "scheduled"


def test_an_unreachable_mailbox_is_a_failed_run_not_an_error(
    ready_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = _closed_mailbox()
    use_mailbox(ready_project, mailbox)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", "secret-of-the-mailbox")
    jobs.bounces_job(str(ready_project.config_path))  # returns: the other jobs go on
    with ready_project.engine().connect() as connection:
        job, outcome, detail = connection.execute(
            sa.select(schedule_events.c.job, schedule_events.c.outcome, schedule_events.c.detail)
        ).one()
    assert (job, outcome) == ("bounces", "failed")
    assert f"imap://bounces@127.0.0.1:{mailbox.port}" in detail
    assert "secret-of-the-mailbox" not in detail
    status = " ".join(ready_project.run("status").stdout.split())
    assert f"Bounce mailbox imap://bounces@127.0.0.1:{mailbox.port}/INBOX: failing" in status
    assert "last bounces" in status and "failed" in status
