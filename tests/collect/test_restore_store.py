"""Drop, restore and the return of an edited file, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import items
from pipeline.queue.actions import QueueActionRefused, apply_action
from pipeline.queue.store import UpsertCounts, upsert

AT = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _file(summary: str, ready: bool = True) -> CollectedItem:
    return CollectedItem(
        key="folder:2026-11-24-richtfest.md",
        source="content folder",
        kind="news",
        title="Richtfest in der Bahnhofstraße",
        summary=summary,
        body_html="",
        link="https://example.org/richtfest",
        image=None,
        image_alt=None,
        topics=(),
        published_at=AT - timedelta(days=1),
        event=None,
        ready=ready,
    )


def _row(engine: sa.Engine) -> sa.Row[tuple[str, str | None]]:
    with engine.connect() as connection:
        query = sa.select(items.c.state, items.c.dropped_from)
        return connection.execute(query).one()


def test_drop_remembers_the_state_and_restore_returns_to_it(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        upsert(connection, [_file("Zusammenfassung")], AT)
    apply_action(engine, ["1"], "approve", AT)
    apply_action(engine, ["1"], "drop", AT)
    assert tuple(_row(engine)) == ("dropped", "approved")
    apply_action(engine, ["1"], "drop", AT)  # dropping again keeps where it came from
    assert tuple(_row(engine)) == ("dropped", "approved")

    assert apply_action(engine, ["1"], "restore", AT) == [
        "1 dropped -> approved: Richtfest in der Bahnhofstraße"
    ]
    assert tuple(_row(engine)) == ("approved", None)
    with pytest.raises(QueueActionRefused, match="it is approved, not dropped"):
        apply_action(engine, ["1"], "restore", AT)


@pytest.mark.parametrize(("ready", "state"), [(True, "queued"), (False, "draft")])
def test_an_edited_file_brings_a_dropped_item_back(
    engine: sa.Engine, ready: bool, state: str
) -> None:
    with engine.begin() as connection:
        upsert(connection, [_file("Zusammenfassung")], AT)
    apply_action(engine, ["1"], "approve", AT)
    apply_action(engine, ["1"], "drop", AT)
    with engine.begin() as connection:
        unchanged = upsert(connection, [_file("Zusammenfassung")], AT)
        edited = upsert(connection, [_file("Neu", ready=ready)], AT)

    assert unchanged == UpsertCounts(unchanged=1)
    assert edited == UpsertCounts(updated=1)
    assert tuple(_row(engine)) == (state, None)
