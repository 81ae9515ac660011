"""The queue's upsert, dedup, expiry and feed health hold on both engines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.collect.health import feed_health, record_failure, record_success
from pipeline.collect.item import CollectedItem, Event
from pipeline.db import items
from pipeline.queue.store import CalendarRead, drop_cancelled, expire_items, upsert
from tests.collect.helpers import news_item

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    return engine


def _item(key: str, title: str, link: str | None, **changes: object) -> CollectedItem:
    source = "Feed A" if key.startswith("feed:") else "content folder"
    return news_item(key, source, title, link, AT - timedelta(days=1), **changes)


def _states(engine: sa.Engine) -> dict[str, tuple[str, str | None]]:
    """Each item's state and, for a duplicate, the key of the item kept."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(items.c.id, items.c.key, items.c.state, items.c.duplicate_of)
        ).all()
    keys = {row.id: row.key for row in rows}
    return {row.key: (row.state, keys.get(row.duplicate_of)) for row in rows}


def test_dedup_within_and_across_batches_and_the_folder_winning(engine: sa.Engine) -> None:
    story = "https://example.org/programm"
    with engine.begin() as connection:
        counts = upsert(
            connection,
            [
                _item("feed:a#1", "Förderprogramm Quartiere verlängert", story),
                _item("feed:a#2", "Förderprogramm verlängert heute", story + "?utm_source=x"),
                _item("feed:a#1", "the same id again in one feed", None),
                _item("feed:a#3", "Ein ganz anderer Beitrag hier", "https://example.org/x"),
            ],
            AT,
        )
    assert (counts.new, counts.duplicates) == (2, 1)
    with engine.begin() as connection:
        upsert(connection, [_item("folder:programm.md", "Unsere Fassung dazu heute", story)], AT)

    assert _states(engine) == {
        "feed:a#1": ("dropped", "folder:programm.md"),
        "feed:a#2": ("dropped", "feed:a#1"),
        "feed:a#3": ("queued", None),
        "folder:programm.md": ("queued", None),
    }


def test_edits_update_and_old_items_expire(engine: sa.Engine) -> None:
    item = _item("feed:a#1", "Ratssitzung vertagt bis Dezember", "https://example.org/rat")
    with engine.begin() as connection:
        upsert(connection, [item], AT)
        edited = upsert(connection, [replace(item, summary="Neu")], AT)
        assert (edited.updated, edited.unchanged) == (1, 0)
        assert expire_items(connection, AT + timedelta(days=2), timedelta(days=2)) == 1
    assert _states(engine) == {"feed:a#1": ("expired", None)}


def test_feed_health_counts_failures_and_resets_on_success(engine: sa.Engine) -> None:
    url = "https://example.org/feed.xml"
    with engine.begin() as connection:
        record_failure(connection, url, "Feed", AT, "HTTP 500")
        record_failure(connection, url, "Feed", AT, "HTTP 500")
        (health,) = feed_health(connection, [url])
        assert (health.consecutive_failures, health.last_error) == (2, "HTTP 500")
        record_success(connection, url, "Feed", AT, etag='"x"', last_modified=None, items_found=3)
        (health,) = feed_health(connection, [url])
    assert (health.consecutive_failures, health.items_found) == (0, 3)
    assert health.last_success_at == AT


def _occurrence(
    key: str, start: datetime, link: str = "https://example.org/stammtisch"
) -> CollectedItem:
    local = start.astimezone(ZoneInfo("Europe/Berlin"))
    return replace(
        news_item(key, "Kulturhaus", "Stammtisch im Kulturhaus", link, AT),
        kind="event",
        event=Event(local, local + timedelta(hours=2), None, None),
        undated=True,
    )


def test_calendar_occurrences_dedup_cancel_and_move_on_both_engines(engine: sa.Engine) -> None:
    week = [AT + timedelta(days=7 * n, hours=6) for n in range(1, 4)]
    series = [_occurrence(f"calendar:http://k/c.ics#s@{n}", start) for n, start in enumerate(week)]
    elsewhere = _occurrence("calendar:http://q/c.ics#other", week[0])  # the same evening
    report = _item("feed:a#bericht", "Bericht vom Stammtisch im Kulturhaus", series[0].link)
    with engine.begin() as connection:
        upsert(connection, [*series, elsewhere, report], AT)
        connection.execute(
            sa.update(items).where(items.c.key == series[0].key).values(state="sent")
        )
    states = _states(engine)
    assert [states[item.key] for item in series[1:]] == [("queued", None)] * 2
    assert states[elsewhere.key] == ("dropped", series[0].key)
    assert states[report.key] == ("queued", None)

    moved = replace(series[0], event=replace(series[0].event, start=week[0] + timedelta(days=1)))
    with engine.begin() as connection:
        upsert(connection, [moved, series[1]], AT)
        read = CalendarRead("calendar:http://k/c.ics#", {moved.key, series[1].key})
        assert drop_cancelled(connection, [read], AT) == [1]  # the third week
        gone = CalendarRead("calendar:http://k/c.ics#", {series[1].key})
        assert drop_cancelled(connection, [gone], AT) == [1]  # the sent one, cancelled
    with engine.connect() as connection:
        rows = {
            row.key: row
            for row in connection.execute(sa.select(items).where(items.c.key.like("calendar:%")))
        }
    assert rows[series[2].key].state == "dropped"
    assert (rows[series[0].key].state, rows[series[0].key].correction) == ("sent", "cancelled")
    assert rows[series[0].key].event_start == week[0] + timedelta(days=1)
