"""A calendar's weekly series on the desk and in `queue list`: one row, its next date and
how many dates it has; `queue list --json` still lists every occurrence.

The calendar is served over loopback HTTP (tests/collect/calendars/weekly-open-ended.ics).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from zoneinfo import ZoneInfo

import html5lib
import pytest

from tests.collect.conftest import Route, running_server
from tests.conftest import Project
from tests.desk.conftest import _desk, signed_in
from tests.web.conftest import Site

TITLE = "Repair-Café in der Nachbarschaft"
CALENDAR = Path(__file__).parents[1] / "collect" / "calendars" / "weekly-open-ended.ics"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def first_day() -> str:
    return f"{datetime.now(BERLIN).date() + timedelta(days=1):%d.%m.%Y}"


@pytest.fixture
def series_desk(project: Project) -> Iterator[Site]:
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    body = Template(CALENDAR.read_text("utf-8")).substitute(first=f"{tomorrow:%Y%m%d}")
    with running_server() as server:
        server.routes["/termine.ics"] = Route(body=body.encode(), content_type="text/calendar")
        project.edit_config(
            lambda raw: raw["sources"].update(  # type: ignore[attr-defined]
                calendars=[{"name": "Nachbarschaft", "url": server.url("/termine.ics")}]
            )
        )
        yield from _desk(project, require_approval=False)


def test_the_queue_list_shows_a_series_as_one_line_and_json_every_date(
    series_desk: Site, project: Project, first_day: str
) -> None:
    listed = project.run("queue", "list").stdout
    occurrences = [
        row
        for row in json.loads(project.run("queue", "list", "--json").stdout)
        if row["title"] == TITLE
    ]

    assert 12 <= len(occurrences) <= 13
    [line] = [line for line in listed.splitlines() if "Repair-Café" in line]
    assert f"{first_day}, 17:00 +{len(occurrences) - 1} more" in line


def test_the_desk_shows_a_series_as_one_row_with_its_next_date(
    series_desk: Site, first_day: str
) -> None:
    with signed_in(series_desk) as client:
        page = client.get("/desk?lang=de").text

    tree = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    rows = ["".join(row.itertext()) for row in tree.iter("tr")]
    [row] = [row for row in rows if TITLE in row]  # one row, not thirteen
    assert f"{first_day}, 17:00" in row
    assert "(Reihe: " in row and " Termine, der nächste gezeigt)" in row
