"""`newsletter status` shows the last issues, the schedule and the workers at a glance."""

from __future__ import annotations

import json

import sqlalchemy as sa

from pipeline import db
from pipeline.issue.build import build_issue
from pipeline.schedule import jobs
from pipeline.send.events import record_event
from subscribers.schema import subscribers
from tests.conftest import Project


def test_status_json_reports_issues_with_delivery_counts_and_bounces(
    ready_project: Project,
) -> None:
    ready_project.run("send")
    with ready_project.engine().begin() as connection:
        readers = dict(
            connection.execute(
                sa.select(subscribers.c.email, db.deliveries.c.id).join(
                    db.deliveries, db.deliveries.c.subscriber_id == subscribers.c.id
                )
            ).all()
        )
        # The webhook's bounce counts for the issue it names; a reader's state alone (a
        # bounce of some other mail) does not.
        anna = readers.pop("anna.schmidt@example.org")
        record_event(connection, anna, "postmark", "hard", "550 5.1.1", db.now())
        connection.execute(
            sa.update(subscribers)
            .where(subscribers.c.email == next(iter(readers)))
            .values(state="bounced")
        )
    jobs.record_event(ready_project.engine(), "send", "missed", "the send due ... did not run")
    report = json.loads(ready_project.run("status", "--json").stdout)
    [issue] = report["issues"]
    assert issue["number"] == 1 and issue["state"] == "sent"
    assert issue["deliveries"]["sent"] == len(list(ready_project.outbox.glob("*.eml")))
    assert issue["bounced"] == 1 and issue["bounced_hard"] == 1
    assert issue["delivered"] == issue["deliveries"]["sent"] - 1
    assert report["schedule"]["daemon"]["holder"] is None
    assert report["schedule"]["last_events"][0]["outcome"] == "missed"
    assert report["workers"] == []


def test_status_names_an_unfinished_issue_and_the_command_that_finishes_it(
    ready_project: Project,
) -> None:
    build_issue(ready_project.engine(), ready_project.config(), db.now())
    text = ready_project.run("status").stdout
    assert "Issue 1 has not finished sending" in text
    assert "newsletter send --resume" in " ".join(text.split())
