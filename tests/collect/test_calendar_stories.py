"""Dedup learns events: over loopback HTTP, two calendars and the content folder.

Two events are one story only when they also start on the same day; an event and a report
sharing a link are two stories; the folder's version of an event wins over a calendar's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pipeline.db import items
from pipeline.queue.dedup import story_keys
from tests.collect.conftest import FeedProject, Route

CALENDARS = Path(__file__).parent / "calendars"
ICS = "text/calendar; charset=utf-8"
BERLIN = ZoneInfo("Europe/Berlin")


def body(name: str, day: date) -> bytes:
    text = Template((CALENDARS / name).read_text("utf-8")).substitute(
        day=f"{day:%Y%m%d}", nextday=f"{day + timedelta(days=1):%Y%m%d}"
    )
    return text.replace("\n", "\r\n").encode()


def folder_file(feeds: FeedProject, name: str, text: str) -> None:
    (feeds.project.content_dir / name).write_text(text.lstrip(), encoding="utf-8")


LESUNG = """
---
title: "Lesung: Geschichten aus dem Quartier (mit Bildern)"
kind: event
date: 2026-11-20
summary: Die Redaktion empfiehlt den Abend.
link: https://kulturhaus.example.org/lesung
status: ready
event:
  start: {day}T19:00
  end: {day}T21:00
  location: Kulturhaus, Musterstraße 1, Wuppertal
---
Unser Text zum Abend.
"""

BERICHT = """
---
title: "Rückblick auf die Lesungen im Kulturhaus"
kind: report
date: 2026-11-20
summary: So war es.
link: https://kulturhaus.example.org/lesung
status: ready
---
Ein Bericht.
"""


@pytest.fixture
def day() -> date:
    return datetime.now(UTC).date() + timedelta(days=10)


def configure(feeds: FeedProject, day: date, *names: str) -> None:
    for name in names:
        feeds.server.routes[f"/{name}"] = Route(body=body(name, day), content_type=ICS)

    def change(raw: dict[str, Any]) -> None:
        raw["sources"]["calendars"] = [
            {"name": name.removesuffix(".ics"), "url": feeds.server.url(f"/{name}")}
            for name in names
        ]
        raw["collect"] = {"timeout_s": 5}

    feeds.project.edit_config(change)


def by_title(feeds: FeedProject) -> dict[str, list[dict[str, Any]]]:
    """Every stored item under its title, soonest first (a series repeats its title)."""
    with feeds.project.engine().connect() as connection:
        rows = connection.execute(sa.select(items).order_by(items.c.event_start, items.c.id))
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            found.setdefault(row.title, []).append(dict(row._mapping))
    return found


def local_day(row: dict[str, Any]) -> date:
    moment: datetime = row["event_start"]
    return moment.astimezone(BERLIN).date()


def test_the_folders_file_and_the_calendars_entry_for_one_evening_are_one_item(
    feeds: FeedProject, day: date
) -> None:
    folder_file(feeds, "lesung.md", LESUNG.format(day=day.isoformat()))
    folder_file(feeds, "bericht.md", BERICHT)
    configure(feeds, day, "two-partners-one-evening.ics")

    report = feeds.collect()

    found = by_title(feeds)
    [calendar_copy] = found["Lesung: Geschichten aus dem Quartier"][:1]
    [folder_event] = found["Lesung: Geschichten aus dem Quartier (mit Bildern)"]
    assert folder_event["state"] == "queued" and folder_event["key"].startswith("folder:")
    assert calendar_copy["state"] == "dropped"
    assert calendar_copy["duplicate_of"] == folder_event["id"]
    # The report about the evening shares its link and is a story of its own.
    [bericht] = found["Rückblick auf die Lesungen im Kulturhaus"]
    assert (bericht["state"], bericht["duplicate_of"]) == ("queued", None)
    calendar = next(s for s in report.sources if s.name == "two-partners-one-evening")
    assert calendar.counts.duplicates == 1


def test_the_calendars_event_steps_aside_when_the_editors_write_their_file_later(
    feeds: FeedProject, day: date
) -> None:
    configure(feeds, day, "two-partners-one-evening.ics")
    feeds.collect()
    folder_file(feeds, "lesung.md", LESUNG.format(day=day.isoformat()))

    feeds.collect()

    found = by_title(feeds)
    [folder_event] = found["Lesung: Geschichten aus dem Quartier (mit Bildern)"]
    calendar_copy = found["Lesung: Geschichten aus dem Quartier"][0]
    assert local_day(calendar_copy) == day
    assert (calendar_copy["state"], calendar_copy["duplicate_of"]) == (
        "dropped",
        folder_event["id"],
    )


def test_same_link_on_other_days_are_other_evenings(feeds: FeedProject, day: date) -> None:
    configure(feeds, day, "two-partners-one-evening.ics", "second-partner.ics")

    feeds.collect()

    found = by_title(feeds)
    lesungen = found["Lesung: Geschichten aus dem Quartier"]
    assert [local_day(row) for row in lesungen] == [
        day,
        day + timedelta(days=1),
        day + timedelta(days=2),
    ]
    assert [row["state"] for row in lesungen] == ["queued"] * 3
    [abend] = found["Abendrundgang durchs Quartier"]
    assert (abend["state"], abend["duplicate_of"]) == ("queued", None)


def test_one_event_in_two_partners_calendars_is_one_item(feeds: FeedProject, day: date) -> None:
    configure(feeds, day, "two-partners-one-evening.ics", "second-partner.ics")

    feeds.collect()

    found = by_title(feeds)
    [first] = found["Quartiersrundgang durch Elberfeld"]
    [second] = found["Rundgang durchs Quartier"]
    assert first["state"] == "queued"
    assert (second["state"], second["duplicate_of"]) == ("dropped", first["id"])


def test_an_events_story_keys_name_its_day_and_a_reports_do_not() -> None:
    link, title = "https://example.org/termin", "Offenes Atelier im Quartier"
    report = story_keys(link, title, None)
    monday = story_keys(link, title, date(2027, 3, 1))
    assert monday != report and monday != story_keys(link, title, date(2027, 3, 8))
    assert monday == story_keys(link + "?utm_source=ical", title, date(2027, 3, 1))
    assert story_keys("https://example.org/" + "a" * 2000, title, date(2027, 3, 1))[0] is not None
    assert (
        len(story_keys("https://example.org/" + "a" * 2000, title, date(2027, 3, 1))[0] or "")
        <= 2000
    )
