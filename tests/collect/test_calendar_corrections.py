"""An occurrence already sent, then cancelled or moved in its calendar: the next issue says
so ("abgesagt" / the new time), and `/events/<id>.ics` answers with the new state.

Real parts: the calendar over loopback HTTP, `newsletter send` into the outbox, and a real
`newsletter serve` for the calendar links.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo

import httpx
import icalendar
import sqlalchemy as sa

from pipeline.db import items
from pipeline.issue.build import next_issue_content
from tests.collect.conftest import FeedProject, Route
from tests.conftest import serve_command

TITLE = "Repair-Café in der Nachbarschaft"
BERLIN = ZoneInfo("Europe/Berlin")
TEMPLATE = Template((Path(__file__).parent / "calendars" / "weekly-open-ended.ics").read_text())


def serve_calendar(feeds: FeedProject, first: date, *changes: str) -> None:
    """The weekly calendar from `first`, with `changes` (lines or VEVENTs) put in."""
    text = TEMPLATE.substitute(first=f"{first:%Y%m%d}")
    for change in changes:
        text = (
            text.replace("END:VCALENDAR", change + "END:VCALENDAR")
            if change.startswith("BEGIN:VEVENT")
            else text.replace("RRULE:FREQ=WEEKLY\n", f"RRULE:FREQ=WEEKLY\n{change}")
        )
    feeds.server.routes["/termine.ics"] = Route(
        body=text.replace("\n", "\r\n").encode(), content_type="text/calendar"
    )


def text_of_mails(outbox: Path) -> str:
    texts = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(("plain",))
        assert part is not None
        texts.append(part.get_content().replace("\r\n", "\n"))
        path.unlink()
    return "\n".join(texts)


def occurrences(feeds: FeedProject) -> list[dict[str, object]]:
    with feeds.project.engine().connect() as connection:
        rows = connection.execute(
            sa.select(items).where(items.c.title == TITLE).order_by(items.c.id)
        )
        return [dict(row._mapping) for row in rows]


def test_a_sent_occurrence_cancelled_or_moved_is_corrected_in_the_next_issue(
    feeds: FeedProject,
) -> None:
    project = feeds.project
    first = datetime.now(BERLIN).date() + timedelta(days=2)
    serve_calendar(feeds, first)
    project.edit_config(
        lambda raw: raw["sources"].update(
            calendars=[{"name": "Nachbarschaft", "url": feeds.server.url("/termine.ics")}]
        )
    )
    project.run("subscribers", "add", "leserin@example.org", "--consent-given-by", "tests")
    project.run("collect")
    project.run("send")
    first_issue = text_of_mails(project.outbox)
    assert first_issue.count(TITLE) == 2
    cancelled, moved = occurrences(feeds)[:2]
    assert (cancelled["state"], moved["state"]) == ("sent", "sent")

    # The partner cancels the first week and moves the second to the next day at 18:30.
    second = first + timedelta(days=7)
    serve_calendar(
        feeds,
        first,
        f"EXDATE;TZID=Europe/Berlin:{first:%Y%m%d}T170000\n",
        "BEGIN:VEVENT\nUID:repair-cafe@nachbarschaft.example.org\nDTSTAMP:20230101T000000Z\n"
        f"RECURRENCE-ID;TZID=Europe/Berlin:{second:%Y%m%d}T170000\n"
        f"DTSTART;TZID=Europe/Berlin:{second + timedelta(days=1):%Y%m%d}T183000\n"
        f"DTEND;TZID=Europe/Berlin:{second + timedelta(days=1):%Y%m%d}T200000\n"
        f"SUMMARY:{TITLE}\nEND:VEVENT\n",
    )
    (project.content_dir / "neu.md").write_text(
        "---\ntitle: Neue Partnerin im Netzwerk\nkind: news\ndate: 2026-12-01\n"
        "summary: Willkommen.\nstatus: ready\n---\nText.\n",
        encoding="utf-8",
    )
    project.run("collect")
    project.run("send")

    second_issue = text_of_mails(project.outbox)
    corrections = second_issue.split("TERMINÄNDERUNGEN", 1)[1].split("LINKS", 1)[0]
    assert f"* {TITLE}\n  abgesagt: " in corrections
    new_day = second + timedelta(days=1)
    assert "neuer Termin: " in corrections and "18:30" in corrections
    assert f"{new_day.day}. " in corrections.split("neuer Termin: ", 1)[1].split("\n", 1)[0]
    after = {row["id"]: row for row in occurrences(feeds)}
    assert after[cancelled["id"]]["state"] == "sent"
    assert after[cancelled["id"]]["correction"] == "cancelled"
    assert after[moved["id"]]["correction"] == "moved"
    # Told once: the issue after that carries no correction.
    with project.engine().connect() as connection:
        later = next_issue_content(connection, project.config(), datetime.now(UTC))
    assert later.corrections == ()

    with serve_command(project) as (url, _process), httpx.Client(base_url=url) as client:
        gone = client.get(f"/events/{cancelled['id']}.ics")
        shifted = client.get(f"/events/{moved['id']}.ics")

    assert gone.status_code == 200 and shifted.status_code == 200
    [gone_event] = icalendar.Calendar.from_ical(gone.content).walk("VEVENT")
    assert str(gone_event["STATUS"]) == "CANCELLED" and int(gone_event["SEQUENCE"]) >= 1
    [shifted_event] = icalendar.Calendar.from_ical(shifted.content).walk("VEVENT")
    start = shifted_event["DTSTART"].dt.astimezone(BERLIN)
    assert (start.date(), start.hour, start.minute) == (new_day, 18, 30)
    assert "STATUS" not in shifted_event and int(shifted_event["SEQUENCE"]) >= 1
