"""Clicks and opens name a reader only while they agree and for `analytics.retention_days`;
then they count on anonymously. On both engines."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from pipeline import db
from pipeline.db import clicks
from pipeline.report.retention import Anonymised, anonymise_reader, apply_retention
from subscribers import store
from tests.report.reach_rows import click, counted, named_rows, open_of, sent_issue

DAYS = 395


def _reader(connection: sa.Connection, email: str, *, agreed: bool) -> int:
    now = db.now()
    reader = store.add(
        connection,
        email=email,
        state="active",
        consent=store.Consent("admin", "retention tests", now),
    )
    if agreed:
        store.give_stats_consent(connection, reader.id, now, "1", "test")
    return reader.id


def test_rows_older_than_the_retention_lose_their_reader_and_still_count(
    engine: sa.Engine,
) -> None:
    now = db.now()
    old, recent = now - timedelta(days=DAYS, hours=1), now - timedelta(days=DAYS - 1)
    with engine.begin() as connection:
        anna = _reader(connection, "anna@example.org", agreed=True)
        issue = sent_issue(connection, 1, ["https://example.org/a", "https://example.org/b"], old)
        click(connection, issue, 1, old, anna)
        click(connection, issue, 2, recent, anna)
        click(connection, issue, 2, old)  # anonymous from the start
        open_of(connection, issue, old, anna)
        open_of(connection, issue, recent, anna)
        anonymised = apply_retention(connection, DAYS, now)
        assert anonymised == Anonymised(clicks=1, opens=1)
        assert named_rows(connection, anna) == (1, 1), "the recent click and open keep her"
        assert counted(connection) == (3, 2), "every click and open still counts"
        kept = connection.execute(
            sa.select(clicks.c.clicked_at).where(clicks.c.subscriber_id == anna)
        ).scalar_one()
        assert kept == recent
        assert apply_retention(connection, DAYS, now) == Anonymised(0, 0), "once is enough"


def test_a_click_naming_a_reader_who_has_not_agreed_loses_the_name(engine: sa.Engine) -> None:
    """A mail sent while Ben agreed carries his id; clicked after he withdrew, the daily
    run clears it even though it is recent."""
    now = db.now()
    with engine.begin() as connection:
        ben = _reader(connection, "ben@example.org", agreed=False)
        cleo = _reader(connection, "cleo@example.org", agreed=True)
        issue = sent_issue(connection, 1, ["https://example.org/a"], now)
        click(connection, issue, 1, now, ben)
        click(connection, issue, 1, now, cleo)
        open_of(connection, issue, now, ben)
        assert apply_retention(connection, DAYS, now) == Anonymised(clicks=1, opens=1)
        assert named_rows(connection, ben) == (0, 0)
        assert named_rows(connection, cleo) == (1, 0)


def test_anonymising_one_reader_leaves_the_others(engine: sa.Engine) -> None:
    now = db.now()
    with engine.begin() as connection:
        anna = _reader(connection, "anna@example.org", agreed=True)
        cleo = _reader(connection, "cleo@example.org", agreed=True)
        issue = sent_issue(connection, 1, ["https://example.org/a", "https://example.org/b"], now)
        for position in (1, 2):
            click(connection, issue, position, now, anna)
        click(connection, issue, 1, now, cleo)
        open_of(connection, issue, now, anna)
        assert anonymise_reader(connection, anna) == Anonymised(clicks=2, opens=1)
        assert named_rows(connection, anna) == (0, 0)
        assert named_rows(connection, cleo) == (1, 0)
        assert counted(connection) == (3, 1)
