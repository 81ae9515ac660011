"""The desk's past issues, over real HTTP, on both engines: the list with headline figures,
an issue's page with an SVG bar chart per item, no scripts, and its figures as text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.desk.conftest import EDITOR, sign_in_browser, signed_in
from tests.report.conftest import AUFTAKT
from tests.web.browser import chromium
from tests.web.conftest import Site, make_site


@pytest.fixture
def report_desk(reported: Project) -> Iterator[Site]:
    reported.edit_config(lambda raw: raw.update(editors=[EDITOR]))
    yield from make_site(reported, webhook_secrets={})


class Charts(HTMLParser):
    """Each <svg> of a page: its attributes, <title>, <desc> and bar widths; and scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, object]] = []
        self.scripts = 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "svg":
            self.charts.append({"attrs": values, "title": "", "desc": "", "bars": []})
        elif self.charts and tag in ("title", "desc"):
            self._in = tag
        elif self.charts and tag == "rect" and "x" in values and values.get("x") != "0":
            bars = self.charts[-1]["bars"]
            assert isinstance(bars, list)
            bars.append(int(values["width"] or 0))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "desc"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.charts[-1][self._in] = str(self.charts[-1][self._in]) + data


class Rows(HTMLParser):
    """The text of each table row's cells, as a browser shows them."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows_of(page: str) -> list[list[str]]:
    parsed = Rows()
    parsed.feed(page)
    return parsed.rows


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_past_issues_list_their_headline_figures(report_desk: Site) -> None:
    with signed_in(report_desk) as client:
        answer = client.get("/desk/issues?lang=en")
        german = _text(client.get("/desk/issues?lang=de").text)
        queue = client.get("/desk?lang=en").text
    assert answer.status_code == 200
    assert 'href="/desk/issues?lang=en"' in queue, "the navigation links the past issues"
    text = _text(answer.text)
    assert text.index("Issue 2") < text.index("Issue 1"), "newest first"
    assert 'href="/desk/issues/1?lang=en"' in answer.text
    first = next(row for row in rows_of(answer.text) if row[0].startswith("Issue 1:"))
    assert first == [
        "Issue 1: Quartiersnachrichten",
        "Thursday, December 3, 2026",
        *("11", "5", "3", "1", "3", "6"),  # recipients, delivered, bounced, complaints, ...
        "4 of 5 who agreed (80%)",
    ]
    assert "4 of 5 who agreed (80%)" in text
    assert "4 von 5, die zugestimmt haben (80 %)" in german  # no-break space, as text


def test_an_issue_page_draws_a_bar_chart_per_item_with_its_figures_as_text(
    report_desk: Site,
) -> None:
    with signed_in(report_desk) as client:
        answer = client.get("/desk/issues/1?lang=en")
    assert answer.status_code == 200
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    parsed = Charts()
    parsed.feed(answer.text)
    assert parsed.scripts == 0
    by_title = {chart["title"]: chart for chart in parsed.charts}
    assert sorted(by_title) == ["Jahresauftakt", "Werkstatt"]
    auftakt, werkstatt = by_title["Jahresauftakt"], by_title["Werkstatt"]
    for chart in (auftakt, werkstatt):
        attrs = chart["attrs"]
        assert isinstance(attrs, dict) and attrs["role"] == "img"
        assert attrs["aria-labelledby"].split()[1].endswith("-desc")
    assert auftakt["desc"] == (
        "Clicks: 5; Machine clicks: 3; Readers who clicked: 3 of 5 who agreed (60%)"
    )
    assert werkstatt["desc"] == (
        "Clicks: 1; Machine clicks: 1; Readers who clicked: 1 of 4 who agreed (25%)"
    )
    # Clicks on the scale of the most clicked item (5); readers as a share of who agreed.
    assert auftakt["bars"] == [300, 180, 180]
    assert werkstatt["bars"] == [60, 60, 75]
    rows = rows_of(answer.text)
    assert ["Machine clicks", "4", "too soon after the send 3, HEAD request 1"] in rows
    assert ["Readers who clicked", "4", "4 of 5 who agreed (80%)"] in rows
    assert ["Unsubscribed", "3", "one click in the mail app 1, on a page 1, by mail 1"] in rows
    assert ["Werkstatt", "1", "1", "1 of 4 who agreed (25%)"] in rows
    assert [AUFTAKT, "Jahresauftakt", "5", "3", "3"] in rows
    assert [
        "Deutsch: netzwerk",
        *("1", "1", "0", "0", "0", "0", "0"),  # recipients, delivered ... unsubscribed
        *("1", "0", "1/1 (100%)"),  # clicks, machine clicks, readers of those who agreed
    ] in rows
    text = _text(answer.text)
    assert AUFTAKT in text
    assert "English" in text and "Deutsch: netzwerk" in text
    assert "Opens" not in text, "opens are off"


def test_an_issue_page_shows_opens_apart_with_the_caveat(reported: Project) -> None:
    reported.edit_config(lambda raw: raw.update(editors=[EDITOR], analytics={"opens": True}))
    for site in make_site(reported, webhook_secrets={}):
        with signed_in(site) as client:
            text = _text(client.get("/desk/issues/1?lang=en").text)
    assert "privacy proxies such as Apple Mail load every image" in text
    assert "4 opens, 1 by machines; 2 of 5 who agreed opened." in text


def test_an_unknown_or_malformed_issue_number_gets_the_desks_404(report_desk: Site) -> None:
    with signed_in(report_desk) as client:
        for path in (
            "/desk/issues/99",
            "/desk/issues/abc",
            "/desk/issues/99999999999999",
            "/desk/issues/%C2%B2",  # a digit to str.isdigit, none to int()
        ):
            answer = client.get(f"{path}?lang=en")
            assert answer.status_code == 404, path
            assert "No such issue" in answer.text
        assert client.get("/desk/issues?page=x&lang=en").status_code == 200
        assert client.get("/desk/issues?page=999&lang=en").status_code == 200
        assert client.get("/desk/issues?page=%C2%B2&lang=en").status_code == 200


def test_past_issues_are_for_signed_in_editors_only(report_desk: Site) -> None:
    with report_desk.client() as client:
        for path in ("/desk/issues", "/desk/issues/1"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/desk/sign-in")


def test_the_charts_are_named_images_in_chromium_without_scripts(
    report_desk: Site, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as page:
        page.call("Emulation.setScriptExecutionDisabled", value=True)
        sign_in_browser(page, report_desk)
        page.call("Page.navigate", url=f"{report_desk.url}/desk/issues/1?lang=de")
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('svg')")
        sizes = page.evaluate(
            "JSON.stringify(Array.from(document.querySelectorAll('svg')).map("
            "s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]))"
        )
        tree = page.call("Accessibility.getFullAXTree")["nodes"]
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    (tmp_path / "report.png").write_bytes(__import__("base64").b64decode(shot["data"]))
    assert all(width > 300 and height > 50 for width, height in json.loads(sizes))
    images = [
        node["name"]["value"]
        for node in tree
        if node.get("role", {}).get("value") == "image" and node.get("name")
    ]
    assert any(
        name.startswith("Jahresauftakt") and "3 von 5, die zugestimmt haben" in name
        for name in images
    ), images
