"""`newsletter run` reads the bounce mailbox on `schedule.bounces` when there is one; a
mailbox that cannot be reached is a failed run in `status`, never the daemon's end."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.config import BounceMailbox
from pipeline.db import schedule_events
from pipeline.schedule import jobs
from pipeline.schedule.daemon import make_scheduler, plan_jobs
from pipeline.tokens import make_delivery_token
from subscribers import store
from tests.bounces.dovecot import Dovecot
from tests.bounces.helpers import dsn, mailbox_settings, reader_with_delivery, use_mailbox
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


def test_by_default_the_mailbox_is_read_every_five_minutes(ready_project: Project) -> None:
    use_mailbox(ready_project, _closed_mailbox())
    config = ready_project.config()
    scheduler = make_scheduler(ready_project.engine(), config)
    plan_jobs(scheduler, config, ready_project.config_path, ready_project.engine(), db.now())
    job = scheduler.get_job("bounces")
    assert job is not None
    start = datetime(2026, 12, 7, 9, 58, 30, tzinfo=ZoneInfo(config.site.timezone))
    fires, previous = [], None
    for _ in range(4):
        previous = job.trigger.get_next_fire_time(previous, previous or start)
        fires.append(previous.strftime("%H:%M"))
    assert fires == ["10:00", "10:05", "10:10", "10:15"]


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


def test_the_bounces_job_reads_the_mailbox_and_says_what_it_found(
    ready_project: Project, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = dovecot.new_user()
    use_mailbox(ready_project, mailbox_settings(dovecot, user, "imap", "none"))
    sent = reader_with_delivery(ready_project.engine(), "job@example.org")
    token = make_delivery_token(TEST_SECRET_KEY, sent.delivery_id)
    dovecot.append(user, dsn(token, "job@example.org", "5.1.1", "550 5.1.1 user unknown"))
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", user.password)
    jobs.bounces_job(str(ready_project.config_path))
    with ready_project.engine().connect() as connection:
        outcome, detail = connection.execute(
            sa.select(schedule_events.c.outcome, schedule_events.c.detail)
        ).one()
        reader = store.find(connection, "job@example.org")
    assert (outcome, detail) == ("ok", "1 hard; 0 unrecognised")
    assert reader is not None and reader.state == "bounced"
