"""A read meeting another transaction on the same address (another reader, a webhook,
an admin suppressing it at that moment), on SQLite and on PostgreSQL: the read never ends
on the conflict; the message is applied once the other commits, or left for the next read
with a warning line."""

from __future__ import annotations

import subprocess
import time

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.bounces.classify import classify
from pipeline.bounces.fetch import fetch_bounces
from pipeline.db import delivery_events
from pipeline.tokens import make_delivery_token
from subscribers import store
from tests.bounces.dovecot import Dovecot, MailUser
from tests.bounces.helpers import Sent, dsn, mailbox_settings, reader_with_delivery, use_mailbox
from tests.conftest import NEWSLETTER, TEST_SECRET_KEY, Project, command_environment

EMAIL = "leser@example.org"


def _bounced(project: Project, database_url: str, dovecot: Dovecot) -> tuple[MailUser, Sent]:
    user = dovecot.new_user()
    use_mailbox(project, mailbox_settings(dovecot, user, "imap", "none"), database_url)
    project.run("db", "upgrade")
    sent = reader_with_delivery(project.engine(), EMAIL)
    token = make_delivery_token(TEST_SECRET_KEY, sent.delivery_id)
    dovecot.append(user, dsn(token, EMAIL, "5.1.1", "550 5.1.1 user unknown"))
    return user, sent


def _hard_events(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(
            sa.select(sa.func.count()).where(delivery_events.c.kind == "hard")
        ).scalar_one()
    return count


def _waiting_for_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        waiting: int = connection.execute(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        ).scalar_one()
    return waiting > 0


def test_fetch_applies_a_bounce_once_the_other_suppression_commits(
    project: Project, database_url: str, dovecot: Dovecot
) -> None:
    user, sent = _bounced(project, database_url, dovecot)
    engine = project.engine()
    other = engine.connect()
    other.begin()
    store.record_bounce(other, EMAIL, "hard", "a webhook's hard bounce", 3)
    fetch = subprocess.Popen(
        [NEWSLETTER, "bounces", "fetch", "--config", str(project.config_path)],
        cwd=project.root,
        env=command_environment(
            {"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY, "NEWSLETTER_BOUNCE_PASSWORD": user.password}
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if engine.dialect.name == "postgresql":  # the read waits on the uncommitted address
        deadline = time.monotonic() + 60
        while not _waiting_for_a_lock(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_for_a_lock(engine), "the read never met the other transaction"
    else:  # SQLite: the read waits for the write lock
        time.sleep(2)
    other.commit()
    other.close()
    out, err = fetch.communicate(timeout=120)
    assert fetch.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()
    assert "1 new message(s) (1 hard)" in out.decode(), out.decode()
    assert _hard_events(engine) == 1
    with engine.connect() as connection:
        reader = store.get(connection, sent.subscriber_id)
    assert reader is not None and reader.state == "bounced"
    assert dovecot.folder(user, "INBOX") == []
    assert len(dovecot.folder(user, "processed")) == 1


def test_a_conflict_that_outlasts_the_retry_leaves_the_message_for_the_next_read(
    project: Project, database_url: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that gives up waiting for a lock (SQLite's busy timeout, PostgreSQL's
    lock_timeout) while another transaction holds the address: the read tries once more,
    then leaves the message with a warning and goes on; the next read applies it."""
    user, _sent = _bounced(project, database_url, dovecot)
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", user.password)
    config = project.config()
    engine = project.engine()
    if engine.dialect.name == "postgresql":
        impatient = db.make_engine(f"{database_url}?options=-c%20lock_timeout%3D200")
    else:
        impatient = db.make_engine(database_url, busy_timeout_s=0.2)
    other = engine.connect()
    other.begin()
    store.record_bounce(other, EMAIL, "hard", "a webhook's hard bounce", 3)
    report = fetch_bounces(config, impatient, TEST_SECRET_KEY, classify)
    other.commit()
    other.close()
    [problem] = report.problems  # the bookkeeping after it may warn too
    assert "a conflict with another transaction" in problem, problem
    assert sum(report.counts.values()) == 0
    assert len(dovecot.folder(user, "INBOX")) == 1, "left in the mailbox"
    assert _hard_events(engine) == 0

    again = fetch_bounces(config, impatient, TEST_SECRET_KEY, classify)
    assert again.problems == [] and again.counts["hard"] == 1
    assert _hard_events(engine) == 1
    assert dovecot.folder(user, "INBOX") == []
    impatient.dispose()
