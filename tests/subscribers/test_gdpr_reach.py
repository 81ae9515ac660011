"""A reader's clicks and opens in their GDPR export (link, issue, time) and gone with their
erasure, on both engines: the store's generic walk over the tables that point at a
subscriber finds the pipeline's click and open tables without knowing them."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from pipeline import db
from subscribers import gdpr, store
from tests.report.reach_rows import click, counted, named_rows, open_of, sent_issue

PAPER = "https://example.org/quintessenzpapier"
EVENT = "https://example.org/termine/werkstatt"


def _reader(connection: sa.Connection, email: str, agreed: bool) -> int:
    now = db.now()
    reader = store.add(
        connection, email=email, state="active", consent=store.Consent("admin", "test", now)
    )
    if agreed:
        store.give_stats_consent(connection, reader.id, now, "1", "sign-up form")
    return reader.id


def test_the_export_shows_which_link_of_which_issue_was_clicked_and_when(
    engine: sa.Engine,
) -> None:
    at = db.now() - timedelta(days=2)
    with engine.begin() as connection:
        anna = _reader(connection, "anna@example.org", agreed=True)
        issue = sent_issue(connection, 7, [PAPER, EVENT], at)
        click(connection, issue, 2, at, anna)
        click(connection, issue, 1, at)  # someone's anonymous click: not hers
        open_of(connection, issue, at, anna)
        record = gdpr.export_person(connection, "anna@example.org")
    assert record is not None
    json.dumps(record)  # the CLI prints it as JSON
    assert record["stats_consent"]["text_version"] == "1"
    [clicked] = record["records"]["clicks"]
    assert clicked["link"]["url"] == EVENT
    assert clicked["issue"]["number"] == 7 and clicked["issue"]["subject"] == "Ausgabe 7"
    assert clicked["clicked_at"] == at.isoformat()
    [opened] = record["records"]["opens"]
    assert opened["issue"]["number"] == 7 and opened["opened_at"] == at.isoformat()


def test_a_reader_without_the_consent_has_no_clicks_in_the_export(engine: sa.Engine) -> None:
    at = db.now()
    with engine.begin() as connection:
        _reader(connection, "ben@example.org", agreed=False)
        issue = sent_issue(connection, 1, [PAPER], at)
        click(connection, issue, 1, at)
        record = gdpr.export_person(connection, "ben@example.org")
    assert record is not None and record["stats_consent"] is None
    assert "clicks" not in record["records"] and "opens" not in record["records"]


def test_erasing_a_reader_removes_their_clicks_and_opens_and_leaves_the_others(
    engine: sa.Engine,
) -> None:
    at = db.now()
    with engine.begin() as connection:
        anna = _reader(connection, "anna@example.org", agreed=True)
        cleo = _reader(connection, "cleo@example.org", agreed=True)
        issue = sent_issue(connection, 1, [PAPER, EVENT], at)
        click(connection, issue, 1, at, anna)
        click(connection, issue, 2, at, anna)
        click(connection, issue, 1, at, cleo)
        click(connection, issue, 2, at)
        open_of(connection, issue, at, anna)
        open_of(connection, issue, at, cleo)
    with engine.begin() as connection:
        assert gdpr.erase(connection, "anna@example.org")
    with engine.connect() as connection:
        assert named_rows(connection, anna) == (0, 0)
        assert counted(connection) == (2, 1), "Cleo's click and open and the anonymous one stay"
        assert named_rows(connection, cleo) == (1, 1)
        assert gdpr.export_person(connection, "anna@example.org") == {
            "email": "anna@example.org",
            "suppressed": "erased",
        }
