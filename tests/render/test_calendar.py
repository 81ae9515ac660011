"""Events as .ics files: built with icalendar, served by the Starlette route over uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import httpx
import icalendar
import pytest
import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import items
from pipeline.render.calendar import event_calendar
from pipeline.render.dates import event_when
from pipeline.web.app import create_app
from tests.conftest import TEST_SECRET_KEY, Project
from tests.render.conftest import make_item
from tests.web.conftest import run_server

STAMP = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_event_becomes_one_vevent_with_time_place_and_link(config: Config) -> None:
    item = make_item(4, "event", title="Werkstatt", link="https://example.org/werkstatt")
    calendar = icalendar.Calendar.from_ical(event_calendar(item, config.site, stamp=STAMP))
    (event,) = calendar.walk("VEVENT")
    assert event["summary"] == "Werkstatt"
    assert event.decoded("dtstart") == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    assert event["location"] == "Quartiershalle, Musterstraße 1, Wuppertal"
    assert event["url"] == "https://example.org/werkstatt"
    assert event["uid"] == "item-4@netzwerk-quartier.example.org"


def test_an_all_day_event_is_its_days_in_the_file_and_in_words(config: Config) -> None:
    midnight = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # 5 December, 00:00 in Berlin
    item = replace(
        make_item(5, "event", title="Quartiersfest"),
        event_start=midnight,
        event_end=midnight + timedelta(days=2),
        event_all_day=True,
    )
    calendar = icalendar.Calendar.from_ical(event_calendar(item, config.site, stamp=STAMP))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 12, 5)
    assert event.decoded("dtend") == date(2026, 12, 7)
    when = event_when(item.event_start, item.event_end, "de", "Europe/Berlin", all_day=True)
    assert when == "Samstag, 5. Dezember 2026 – Sonntag, 6. Dezember 2026"
    one_day = event_when(
        midnight, midnight + timedelta(days=1), "de", "Europe/Berlin", all_day=True
    )
    assert one_day == "Samstag, 5. Dezember 2026"


def test_online_event_gives_its_link_as_the_place(config: Config) -> None:
    item = make_item(5, "event", event_location=None, event_online_url="https://meet.example.org/x")
    (event,) = icalendar.Calendar.from_ical(event_calendar(item, config.site, stamp=STAMP)).walk(
        "VEVENT"
    )
    assert event["location"] == "https://meet.example.org/x"


@pytest.fixture
def served(ready_project: Project) -> Iterator[tuple[str, Project]]:
    """`newsletter serve`'s app on uvicorn at 127.0.0.1 on a free port."""
    config = ready_project.config()
    app = create_app(config, ready_project.engine(), TEST_SECRET_KEY, webhook_secrets={})
    for url in run_server(app):
        yield url, ready_project


def test_signed_calendar_link_of_the_preview_serves_the_event(served: tuple[str, Project]) -> None:
    base, project = served
    with project.engine().connect() as connection:
        event_id = connection.execute(
            sa.select(items.c.id).where(items.c.title.like("Quartierswerkstatt%"))
        ).scalar_one()
        report_id = connection.execute(
            sa.select(items.c.id).where(items.c.kind == "report")
        ).scalar_one()
    project.run("preview", "--out", "out")
    page = (project.root / "out" / "issue-1.de.html").read_text("utf-8")
    link = f"https://netzwerk-quartier.example.org/events/{event_id}.ics?preview="
    assert link in page
    token = page.split(link, 1)[1].split('"', 1)[0]
    # Not yet gone out in an issue: only the preview's signed link opens it.
    assert httpx.get(f"{base}/events/{event_id}.ics").status_code == 404
    response = httpx.get(f"{base}/events/{event_id}.ics", params={"preview": token})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["summary"]).startswith("Quartierswerkstatt Wuppertal")
    assert event.decoded("dtstart") == datetime(2027, 3, 4, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    assert httpx.get(f"{base}/events/{report_id}.ics").status_code == 404
    assert httpx.get(f"{base}/events/99999.ics").status_code == 404
