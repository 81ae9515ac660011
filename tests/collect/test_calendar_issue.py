"""Which occurrences an issue lists: those that begin before the issue after next.

A weekly series collected for 90 days shows its next week or two, not thirteen weeks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.issue.build import build_issue, next_issue_content
from pipeline.schedule.triggers import issue_after_next
from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import states_of

TITLE = "Repair-Café in der Nachbarschaft"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def weekly(feeds: FeedProject) -> FeedProject:
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    text = Template((Path(__file__).parent / "calendars" / "weekly-open-ended.ics").read_text())
    body = text.substitute(first=f"{tomorrow:%Y%m%d}").replace("\n", "\r\n").encode()
    feeds.server.routes["/termine.ics"] = Route(body=body, content_type="text/calendar")

    def change(raw: dict[str, Any]) -> None:
        raw["sources"]["calendars"] = [
            {"name": "Nachbarschaft", "url": feeds.server.url("/termine.ics")}
        ]
        raw["collect"] = {"timeout_s": 5}

    feeds.project.edit_config(change)
    feeds.collect()
    return feeds


def listed_starts(
    feeds: FeedProject, at: datetime, until: datetime | None = None
) -> list[datetime]:
    config = feeds.project.config()
    with feeds.project.engine().connect() as connection:
        content = next_issue_content(connection, config, at, until)
    return [item.event_start for item in content.items if item.title == TITLE]  # type: ignore[misc]


def test_ninety_days_of_a_weekly_series_are_in_the_queue(weekly: FeedProject) -> None:
    assert states_of(weekly.project, TITLE) == ["queued"] * len(states_of(weekly.project, TITLE))
    assert 12 <= len(states_of(weekly.project, TITLE)) <= 13


def test_a_manual_send_lists_the_occurrences_within_event_days(weekly: FeedProject) -> None:
    at = datetime.now(UTC)

    starts = listed_starts(weekly, at)

    assert len(starts) == 2  # tomorrow and a week later: issue.event_days is 14
    assert all(at < start < at + timedelta(days=14) for start in starts)
    weekly.project.edit_config(lambda raw: raw["issue"].update(event_days=7))
    assert len(listed_starts(weekly, at)) == 1


def test_the_scheduled_send_lists_those_before_the_issue_after_next(weekly: FeedProject) -> None:
    at = datetime.now(UTC)
    until = issue_after_next("0 9 * * thu", "Europe/Berlin", at)

    starts = listed_starts(weekly, at, until)

    assert starts and all(start < until for start in starts)
    assert len(starts) in (1, 2)  # a weekly series shows once or twice


def test_the_issue_after_next_by_a_weekly_schedule_is_two_sends_on() -> None:
    thursday = datetime(2027, 3, 18, 9, 0, 0, 300_000, tzinfo=BERLIN)  # the send itself

    after_next = issue_after_next("0 9 * * thu", "Europe/Berlin", thursday.astimezone(UTC))

    # Across the change to summer time (28 March) it stays 09:00 on the wall.
    assert after_next.astimezone(BERLIN).replace(tzinfo=None) == datetime(2027, 4, 1, 9, 0)


def test_a_built_issue_sends_the_listed_occurrences_and_keeps_the_rest_queued(
    weekly: FeedProject,
) -> None:
    weekly.project.run("subscribers", "add", "leserin@example.org", "--consent-given-by", "tests")
    config = weekly.project.config()

    build_issue(weekly.project.engine(), config, datetime.now(UTC))

    states = states_of(weekly.project, TITLE)
    assert states[:2] == ["sent", "sent"] and set(states[2:]) == {"queued"}


def test_the_editors_own_event_months_ahead_is_announced_at_once(weekly: FeedProject) -> None:
    later = datetime.now(BERLIN).date() + timedelta(days=60)
    (weekly.project.content_dir / "konferenz.md").write_text(
        "---\ntitle: Jahreskonferenz des Netzwerks\nkind: event\ndate: 2026-12-01\n"
        "summary: Anmeldung offen.\nstatus: ready\n"
        f"event:\n  start: {later.isoformat()}T10:00\n  location: Rathaus Herne\n---\nText.\n",
        encoding="utf-8",
    )
    weekly.collect()
    config = weekly.project.config()

    with weekly.project.engine().connect() as connection:
        content = next_issue_content(connection, config, datetime.now(UTC))

    titles = [item.title for item in content.items]
    assert "Jahreskonferenz des Netzwerks" in titles and titles.count(TITLE) == 2
