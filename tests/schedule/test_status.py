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


def test_status_reads_at_80_columns_with_local_times_and_the_planned_schedule(
    ready_project: Project,
) -> None:
    ready_project.run("send")
    text = ready_project.run("status", in_process=False).stdout
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    flat = " ".join(text.split())
    readers = json.loads(ready_project.run("status", "--json").stdout)["subscribers"]
    assert set(readers) == {"pending", "active", "unsubscribed", "bounced", "complained"}
    assert f"Subscribers: 0 pending, {readers['active']} active," in flat
    # The issue's figures in the glossary's words, no number parted from its word.
    assert f"{readers['active']} recipients, {readers['active']} sent," in flat
    start = next(n for n, line in enumerate(lines) if line.strip().startswith("Issue 1, sent"))
    end = next(n for n, line in enumerate(lines) if line.startswith("Scheduler:"))
    assert not [line for line in lines[start + 1 : end] if line.rstrip()[-1].isdigit()]
    # Times in site.timezone, with their zone; the schedule from config.yaml before any
    # daemon ran (the sample sends on Thursdays at 09:00).
    assert "no daemon is running" in text and "by config.yaml's schedule" in text
    send_line = next(line for line in lines if "next send:" in line)
    assert send_line.rstrip().endswith(("09:00 CET", "09:00 CEST"))
    sent_line = next(line for line in lines if line.strip().startswith("Issue 1, sent"))
    assert " CET: " in sent_line or " CEST: " in sent_line
