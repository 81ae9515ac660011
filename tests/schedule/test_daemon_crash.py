"""A daemon killed with SIGKILL mid-send and started again finishes the issue, and no
reader gets it twice (crash_policy at_most_once: the messages in flight are reported)."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline import db
from pipeline.db import deliveries, issues
from pipeline.issue.build import build_issue
from tests.conftest import Project, smtp_relay
from tests.schedule.test_daemon import _start_daemon, _stop
from tests.send.conftest import add_readers

READERS = 800
# The field folds before a Message-ID longer than its first line can take.
MESSAGE_ID = re.compile(
    rb"^Message-ID:\s+<issue1\.d(\d+)\.[a-z2-7]{23}@", re.MULTILINE | re.IGNORECASE
)


class CountingMailbox:
    def __init__(self) -> None:
        self.deliveries: Counter[int] = Counter()

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        match = MESSAGE_ID.search(content)
        assert match, "a message without the pipeline's Message-ID"
        self.deliveries[int(match.group(1))] += 1
        return "250 2.0.0 Queued"


@pytest.fixture
def mailbox() -> Iterator[tuple[CountingMailbox, int]]:
    handler = CountingMailbox()
    with smtp_relay(handler) as port:
        yield handler, port


def _issue_state(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(sa.select(issues.c.state)).scalar_one())


def test_daemon_killed_mid_send_finishes_after_restart_without_duplicates(
    ready_project: Project, mailbox: tuple[CountingMailbox, int]
) -> None:
    handler, port = mailbox
    ready_project.edit_config(
        lambda raw: raw["provider"].update(
            name="smtp",
            rate_per_s=100_000,
            concurrency=4,
            smtp={"host": "127.0.0.1", "port": port, "tls": "none"},
        )
    )
    engine = ready_project.engine()
    add_readers(engine, READERS)
    build_issue(engine, ready_project.config(), db.now())
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar_one()

    first = _start_daemon(ready_project)
    deadline = time.monotonic() + 60
    while sum(handler.deliveries.values()) < total // 4:
        assert time.monotonic() < deadline, "the daemon never started sending"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert sum(handler.deliveries.values()) < total, "the send finished before the kill"

    second = _start_daemon(ready_project)
    try:
        while _issue_state(engine) != "sent":
            assert time.monotonic() < deadline + 60, "the restarted daemon did not finish"
            time.sleep(0.1)
    finally:
        code, _out, log = _stop(second)
    assert code == 0, log
    assert "left unfinished" in log

    assert max(handler.deliveries.values()) == 1, "a reader got the issue twice"
    with engine.connect() as connection:
        states = dict(connection.execute(sa.select(deliveries.c.id, deliveries.c.state)).all())
    sent = {i for i, state in states.items() if state == "sent"}
    unsettled = {i for i, state in states.items() if state == "unsettled"}
    assert sent <= set(handler.deliveries)
    assert set(handler.deliveries) <= sent | unsettled
    assert len(sent) + len(unsettled) == total
