"""`newsletter send --issue N`: resume N, send N's failures again, or refuse and say why.

The mail goes through the real SMTP provider to an aiosmtpd relay on loopback that
refuses some mailboxes until it is told otherwise, as a relay with a full mailbox or a
misconfigured route would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline import db
from pipeline.cli import EXIT_REFUSED
from pipeline.db import deliveries, issues
from pipeline.issue.build import build_issue
from tests.conftest import Project, smtp_relay

REFUSED = {"j.kowalski@example.org", "mehmet.yilmaz@example.org"}


@dataclass
class Relay:
    refused: set[str] = field(default_factory=lambda: set(REFUSED))
    received: Counter[str] = field(default_factory=Counter)

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, _o: object
    ) -> str:
        if address in self.refused:
            return "550 5.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.received.update(envelope.rcpt_tos)
        return "250 2.0.0 Queued"


@pytest.fixture
def relay(ready_project: Project) -> Iterator[Relay]:
    handler = Relay()
    with smtp_relay(handler) as port:
        smtp = {"host": "127.0.0.1", "port": port, "tls": "none"}
        ready_project.edit_config(lambda raw: raw["provider"].update(name="smtp", smtp=smtp))
        yield handler


def _said(output: str) -> str:
    return " ".join(output.split())


def _refused(project: Project, *args: str) -> str:
    result = project.run("send", *args, check=False)
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    return _said(result.stderr)


def _states(project: Project, number: int) -> Counter[str]:
    with project.engine().connect() as connection:
        rows = connection.execute(
            sa.select(deliveries.c.state)
            .join(issues, issues.c.id == deliveries.c.issue_id)
            .where(issues.c.number == number)
        ).scalars()
        return Counter(rows)


def test_retry_failed_sends_only_the_failed_to_readers_still_subscribed(
    ready_project: Project, relay: Relay
) -> None:
    first = _said(ready_project.run("send").stdout)
    assert "Issue 1: 2 sent" in first and "2 failed" in first
    assert set(relay.received) == {"anna.schmidt@example.org", "quartiersbuero@example.org"}

    relay.refused.clear()  # the relay is mended
    ready_project.run("subscribers", "remove", "mehmet.yilmaz@example.org")
    retried = _said(ready_project.run("send", "--issue", "1", "--retry-failed").stdout)
    assert retried.startswith(
        "Sending 1 failed deliveries of issue 1 again; 1 of readers no longer mailed skipped."
    )
    assert "Issue 1: 3 sent" in retried and "0 failed, 1 skipped" in retried
    assert relay.received == Counter(
        {
            "anna.schmidt@example.org": 1,
            "quartiersbuero@example.org": 1,
            "j.kowalski@example.org": 1,
        }
    )
    again = _said(ready_project.run("send", "--issue", "1", "--retry-failed").stdout)
    assert "Issue 1 has no failed deliveries to send again" in again
    assert sum(relay.received.values()) == 3


def test_unsettled_and_sent_deliveries_are_never_sent_again(
    ready_project: Project, relay: Relay
) -> None:
    ready_project.run("send")
    mailed_first = sum(relay.received.values())
    with ready_project.engine().begin() as connection:  # as a crash mid-call leaves a row
        connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == sa.select(sa.func.min(deliveries.c.id)).scalar_subquery())
            .values(state="unsettled")
        )
    before = _states(ready_project, 1)
    relay.refused.clear()
    ready_project.run("send", "--issue", "1", "--retry-failed")
    after = _states(ready_project, 1)
    assert after["unsettled"] == before["unsettled"] == 1
    assert after["sent"] == before["sent"] + before["failed"]
    assert sum(relay.received.values()) == mailed_first + before["failed"]


def test_a_finished_issue_is_refused_with_its_summary(ready_project: Project, relay: Relay) -> None:
    ready_project.run("send")
    said = _refused(ready_project, "--issue", "1")
    assert "issue 1 has been sent on" in said
    assert "2 sent, 2 failed, 0 unsettled, 0 skipped" in said
    assert "--issue 1 --retry-failed" in said
    assert _refused(ready_project, "--issue", "1", "--resume") == said
    assert "there is no issue 7 (the last one is 1)" in _refused(ready_project, "--issue", "7")
    assert sum(relay.received.values()) == 2


def _unfinished_second_issue(project: Project) -> None:
    project.run(
        "queue", "add", "--title", "Nachtrag", "--summary", "Noch eine Meldung.",
        "--date", date.today().isoformat(),
    )  # fmt: skip
    config = project.config()
    build_issue(project.engine(), config, db.now())


def test_only_the_unfinished_issue_may_be_worked_on_and_it_is_named(
    ready_project: Project, relay: Relay
) -> None:
    ready_project.run("send")
    _unfinished_second_issue(ready_project)
    assert "issue 2 has not finished sending" in _refused(ready_project, "--issue", "1", "--resume")
    assert "issue 2 has not finished" in _refused(ready_project, "--issue", "1", "--retry-failed")
    alone = _refused(ready_project, "--issue", "2")
    assert "`newsletter send --issue 2 --resume` finishes it" in alone
    assert "issue 2 has not finished sending" in _refused(ready_project)
    resumed = _said(ready_project.run("send", "--issue", "2", "--resume").stdout)
    assert resumed.startswith("Resuming issue 2.")
    assert "Issue 2: 2 sent" in resumed
    assert relay.received["anna.schmidt@example.org"] == 2


@pytest.mark.parametrize(
    ("args", "hint"),
    [(["--retry-failed"], "--retry-failed"), (["--issue", "1", "--dry-run"], "--dry-run")],
)
def test_options_that_do_not_go_together_are_named(
    ready_project: Project, args: list[str], hint: str
) -> None:
    result = ready_project.run("send", *args, check=False)
    assert result.returncode == 2
    assert hint in result.stderr
