"""Calendars (.ics) over loopback HTTP: every occurrence in the window an event item.

The fixtures in tests/collect/calendars/ name their case at their top (X-TEST-CASE). Their
dates are filled in around the next change to or from summer time in Europe/Berlin, so
that the weekly events cross it whatever day the tests run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pipeline.db import items
from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import feed_row

CALENDARS = Path(__file__).parent / "calendars"
BERLIN = ZoneInfo("Europe/Berlin")
ICS = "text/calendar; charset=utf-8"


def next_clock_change(after: date) -> date:
    """The next day Berlin's clocks change (to or from summer time), after `after`."""
    day = after + timedelta(days=1)
    while (
        datetime(day.year, day.month, day.day, 12, tzinfo=BERLIN).utcoffset()
        == datetime(after.year, after.month, after.day, 12, tzinfo=BERLIN).utcoffset()
    ):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Weeks:
    """Thursdays around the clock change: week(0) is the first one after it."""

    change: date

    def week(self, n: int) -> date:
        return self.change + timedelta(days=4 + 7 * n)


def weeks_ahead() -> Weeks:
    today = datetime.now(UTC).date()
    change = next_clock_change(today)
    if change - timedelta(days=12) <= today:  # the first Thursday must still be ahead
        change = next_clock_change(change)
    return Weeks(change)


def calendar_body(name: str, weeks: Weeks, **more: str) -> bytes:
    def ics(day: date) -> str:
        return day.strftime("%Y%m%d")

    first = weeks.week(-2)
    first_utc = datetime(first.year, first.month, first.day, 18, tzinfo=BERLIN).astimezone(UTC)
    values = {
        "before2": ics(weeks.week(-2)),
        "before1": ics(weeks.week(-1)),
        "after0": ics(weeks.week(0)),
        "after0next": ics(weeks.week(0) + timedelta(days=1)),
        "after1": ics(weeks.week(1)),
        "after2": ics(weeks.week(2)),
        "after2next": ics(weeks.week(2) + timedelta(days=1)),
        "utc_before": first_utc.strftime("%H%M%SZ"),
        "utc_before_end": (first_utc + timedelta(hours=1)).strftime("%H%M%SZ"),
    } | more
    text = Template((CALENDARS / name).read_text("utf-8")).substitute(values)
    return text.replace("\n", "\r\n").encode()  # as servers send them


def configure(feeds: FeedProject, calendars: dict[str, str], weeks: Weeks, **collect: Any) -> None:
    days = (weeks.week(3) - datetime.now(UTC).date()).days + 7

    def change(raw: dict[str, Any]) -> None:
        raw["sources"]["calendars"] = [
            {"name": name, "url": feeds.server.url(path), "topics": ["veranstaltungen"]}
            for name, path in calendars.items()
        ]
        raw["collect"] = {"timeout_s": 5, "calendar_days": days, "max_age_days": 30} | collect

    feeds.project.edit_config(change)


def events(feeds: FeedProject, title: str) -> list[dict[str, Any]]:
    """The stored items of this title, soonest first."""
    with feeds.project.engine().connect() as connection:
        rows = connection.execute(
            sa.select(items).where(items.c.title == title).order_by(items.c.event_start)
        ).all()
    return [dict(row._mapping) for row in rows]


def local(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN)


@pytest.fixture
def weeks() -> Weeks:
    return weeks_ahead()


@pytest.fixture
def served(feeds: FeedProject, weeks: Weeks) -> FeedProject:
    for name in ("google-export", "nextcloud-partner"):
        feeds.server.routes[f"/{name}.ics"] = Route(
            body=calendar_body(f"{name}.ics", weeks), content_type=ICS, etag=f'"{name}-1"'
        )
    configure(
        feeds,
        {"Quartiersnetz": "/google-export.ics", "Kulturhaus": "/nextcloud-partner.ics"},
        weeks,
    )
    return feeds


def test_a_google_export_keeps_local_time_across_the_clock_change(
    served: FeedProject, weeks: Weeks
) -> None:
    report = served.collect()

    google = next(source for source in report.sources if source.name == "Quartiersnetz")
    assert (google.result, google.counts.new, google.warnings) == ("ok", 5, [])
    found = events(served, "Offene Sprechstunde Quartiersnetz")
    starts = [local(row["event_start"]) for row in found]
    assert [start.date() for start in starts] == [weeks.week(n) for n in range(-2, 3)]
    assert {(start.hour, start.minute) for start in starts} == {(18, 0)}
    # Before and after the change the same local hour is a different hour in UTC.
    assert found[0]["event_start"].astimezone(UTC).hour != found[-1]["event_start"].hour
    first = found[0]
    assert first["event_online_url"] == "https://meet.google.com/abc-defg-hij"
    assert first["event_location"] is None
    assert first["link"] == "https://quartiersnetz.example.org/sprechstunde"
    assert first["summary"] == "Offene Sprechstunde des Quartiersnetzes. Anmeldung nicht nötig."
    assert "script" not in first["body_html"] and "alert" not in first["body_html"]
    assert first["kind"] == "event" and first["topics"] == ["veranstaltungen"]


def test_occurrences_are_first_seen_items_that_a_year_old_dtstamp_does_not_expire(
    served: FeedProject,
) -> None:
    before = datetime.now(UTC)
    served.collect()

    found = events(served, "Offene Sprechstunde Quartiersnetz")
    assert {row["state"] for row in found} == {"queued"}  # collect.max_age_days is 30
    assert all(row["published_at"] >= before - timedelta(seconds=1) for row in found)


def test_a_weekly_series_with_an_exdate_a_moved_and_a_cancelled_week(
    served: FeedProject, weeks: Weeks
) -> None:
    served.collect()

    found = events(served, "Stammtisch im Kulturhaus")
    assert [local(row["event_start"]).replace(tzinfo=None) for row in found] == [
        datetime.combine(weeks.week(-2), datetime.min.time()).replace(hour=19),
        datetime.combine(weeks.week(0) + timedelta(days=1), datetime.min.time()).replace(hour=20),
        datetime.combine(weeks.week(2), datetime.min.time()).replace(hour=19),
        datetime.combine(weeks.week(3), datetime.min.time()).replace(hour=19),
    ]
    # One title, one link, one place: still four items, none set aside as a duplicate.
    assert {row["state"] for row in found} == {"queued"}
    assert {row["duplicate_of"] for row in found} == {None}
    assert found[0]["event_location"] == "Kulturhaus, Musterstraße 1, 42103 Wuppertal"
    assert found[0]["summary"] == "Wir treffen uns jede Woche. Gäste sind willkommen."
    assert events(served, "Lesung fällt aus") == []


def test_an_all_day_event_is_stored_as_its_days(served: FeedProject, weeks: Weeks) -> None:
    served.collect()

    [fest] = events(served, "Quartiersfest am Platz")
    assert fest["event_all_day"] is True
    start, end = local(fest["event_start"]), local(fest["event_end"])
    assert (start.date(), start.hour, start.minute) == (weeks.week(2), 0, 0)
    assert (end.date(), end.hour) == (weeks.week(2) + timedelta(days=1), 0)
    assert fest["event_location"] is None  # a calendar's event needs no place


def test_a_broken_vevent_is_skipped_by_name_and_the_rest_is_read(served: FeedProject) -> None:
    report = served.collect()

    partner = next(source for source in report.sources if source.name == "Kulturhaus")
    assert partner.result == "ok" and partner.errors == []
    [warning] = partner.warnings
    assert "Kulturhaus" in warning and "kaputt@kulturhaus.example.org" in warning
    assert "DTSTART" in warning
    assert events(served, "Kaputter Termin") == []
    assert partner.counts.new == 5  # four Stammtische and the Quartiersfest
    assert feed_row(served.project, "Kulturhaus")["items_found"] == 5


def test_the_rerun_asks_with_the_etag_and_a_304_changes_nothing(served: FeedProject) -> None:
    served.collect()
    stored = events(served, "Stammtisch im Kulturhaus")

    report = served.collect()

    assert {source.result for source in report.sources[1:]} == {"not modified"}
    requests = served.server.requests_to("/nextcloud-partner.ics")
    assert requests[-1].headers["if-none-match"] == '"nextcloud-partner-1"'
    assert "text/calendar" in requests[-1].headers["accept"]
    assert events(served, "Stammtisch im Kulturhaus") == stored
    assert feed_row(served.project, "Kulturhaus")["consecutive_failures"] == 0


def test_a_moved_event_updates_its_item_and_a_cancelled_one_leaves_the_queue(
    served: FeedProject, weeks: Weeks
) -> None:
    served.collect()
    [fest] = events(served, "Quartiersfest am Platz")
    stammtische = events(served, "Stammtisch im Kulturhaus")
    # The partner moves the feast a day on and cancels the Stammtisch of week 2.
    body = calendar_body("nextcloud-partner.ics", weeks).replace(
        f"DTSTART;VALUE=DATE:{weeks.week(2):%Y%m%d}".encode(),
        f"DTSTART;VALUE=DATE:{weeks.week(2) + timedelta(days=1):%Y%m%d}".encode(),
    )
    body = body.replace(
        f"DTEND;VALUE=DATE:{weeks.week(2) + timedelta(days=1):%Y%m%d}".encode(),
        f"DTEND;VALUE=DATE:{weeks.week(2) + timedelta(days=2):%Y%m%d}".encode(),
    )
    body = body.replace(
        b"RRULE:FREQ=WEEKLY;COUNT=6\r\n",
        f"RRULE:FREQ=WEEKLY;COUNT=6\r\nEXDATE;TZID=Europe/Berlin:{weeks.week(2):%Y%m%d}T190000\r\n".encode(),
    )
    served.server.routes["/nextcloud-partner.ics"] = Route(
        body=body, content_type=ICS, etag='"nextcloud-partner-2"'
    )

    report = served.collect()

    partner = next(source for source in report.sources if source.name == "Kulturhaus")
    assert (partner.counts.updated, partner.counts.removed) == (1, 1)
    [moved] = events(served, "Quartiersfest am Platz")
    assert moved["id"] == fest["id"] and moved["state"] == "queued"
    assert local(moved["event_start"]).date() == weeks.week(2) + timedelta(days=1)
    after = {row["id"]: row["state"] for row in events(served, "Stammtisch im Kulturhaus")}
    cancelled = stammtische[2]
    assert local(cancelled["event_start"]).date() == weeks.week(2)
    assert after == {row["id"]: "queued" for row in stammtische} | {cancelled["id"]: "dropped"}
    # The broken event is still skipped, and said so again.
    assert "kaputt@kulturhaus.example.org" in partner.warnings[0]


def test_a_calendar_that_is_no_calendar_fails_by_name(feeds: FeedProject, weeks: Weeks) -> None:
    feeds.server.routes["/page.ics"] = Route(body=b"<html>Termine</html>", content_type="text/html")
    configure(feeds, {"Falsche Adresse": "/page.ics"}, weeks)

    report = feeds.collect()

    [source] = [source for source in report.sources if source.name == "Falsche Adresse"]
    assert source.result == "failed"
    assert "not an iCalendar file" in str(source.errors[0])
    assert feed_row(feeds.project, "Falsche Adresse")["consecutive_failures"] == 1
