"""Several feeds' items stored in one batch end as they would one feed after the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.collect.item import CollectedItem
from pipeline.db import items
from pipeline.queue.store import UpsertCounts, upsert, upsert_groups
from tests.collect.helpers import news_item

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)
STORY = "https://example.org/programm"


def _item(feed: str, guid: str, title: str, link: str | None, **changes: object) -> CollectedItem:
    key = f"feed:https://{feed}.example.org/feed#{guid}"
    return news_item(key, feed, title, link, AT - timedelta(days=1), **changes)


def _groups(edited: bool) -> list[list[CollectedItem]]:
    summary = "Neu geschrieben" if edited else "Zusammenfassung"
    return [
        [
            _item("a", "1", "Das Programm für den Herbst steht", STORY, summary=summary),
            _item("a", "2", "Richtfest in der Bahnhofstraße", "https://a.example.org/richtfest"),
            _item("a", "2", "Richtfest in der Bahnhofstraße", "https://a.example.org/richtfest"),
        ],
        [],
        [
            _item("b", "x", "Programm Herbst: alle Termine", STORY + "/?utm_source=feed"),
            _item("b", "y", "Das Programm für den Herbst steht", "https://b.example.org/p"),
            _item("b", "z", "Eine Meldung nur bei B", None),
        ],
    ]


def _stored(engine: sa.Engine) -> list[tuple[str, str, str | None, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(items).order_by(items.c.key)).all()
    keys = {row.id: row.key for row in rows}
    return [(row.key, row.state, keys.get(row.duplicate_of), row.summary) for row in rows]


@pytest.fixture
def engines(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> list[sa.Engine]:
    """A store on the engine under test, and a SQLite file to compare it with."""
    other = f"sqlite:///{tmp_path_factory.mktemp('sequential') / 'store.db'}"
    made = [db.make_engine(url) for url in (database_url, other)]
    for engine in made:
        db.upgrade(engine)
    return made


def test_a_batch_of_feeds_is_stored_as_one_feed_after_the_other(engines: list[sa.Engine]) -> None:
    batched, sequential = engines
    rounds = []
    for edited in (False, True, True):
        with batched.begin() as connection:
            batch_counts = upsert_groups(connection, _groups(edited), AT)
        with sequential.begin() as connection:
            one_by_one = [upsert(connection, group, AT) for group in _groups(edited)]
        assert batch_counts == one_by_one
        assert _stored(batched) == _stored(sequential)
        rounds.append(batch_counts)
    # B's first two repeat A's story (by link, by title): dropped, pointing at A's.
    assert rounds[0] == [UpsertCounts(new=2), UpsertCounts(), UpsertCounts(new=1, duplicates=2)]
    assert rounds[1] == [
        UpsertCounts(updated=1, unchanged=1),
        UpsertCounts(),
        UpsertCounts(unchanged=3),
    ]
    assert rounds[2][0] == UpsertCounts(unchanged=2)
    kept = "feed:https://a.example.org/feed#1"
    assert [
        (state, of) for key, state, of, _ in _stored(batched) if key.startswith("feed:https://b")
    ] == [
        ("dropped", kept),
        ("dropped", kept),
        ("queued", None),
    ]
