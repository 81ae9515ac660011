"""Reading what the queue holds, as an editor would see it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import feeds as feeds_table
from pipeline.db import items
from tests.conftest import Project


def queue(project: Project) -> dict[str, dict[str, Any]]:
    """Every stored item by title."""
    with project.engine().connect() as connection:
        rows = connection.execute(sa.select(items).order_by(items.c.id)).all()
    return {row.title: dict(row._mapping) for row in rows}


def states(project: Project) -> dict[str, str]:
    return {title: row["state"] for title, row in queue(project).items()}


def feed_row(project: Project, name: str) -> dict[str, Any]:
    with project.engine().connect() as connection:
        row = connection.execute(sa.select(feeds_table).where(feeds_table.c.name == name)).one()
    return dict(row._mapping)


def states_of(project: Project, title: str) -> list[str]:
    """The states of every stored item with this title, oldest first."""
    with project.engine().connect() as connection:
        return list(
            connection.execute(
                sa.select(items.c.state).where(items.c.title == title).order_by(items.c.id)
            ).scalars()
        )


def news_item(
    key: str, source: str, title: str, link: str | None, published_at: datetime, **changes: object
) -> CollectedItem:
    """A collected news item as a feed or the folder gives it, with `changes` on top."""
    item = CollectedItem(
        key=key,
        source=source,
        kind="news",
        title=title,
        summary="Zusammenfassung",
        body_html="<p>Text</p>",
        link=link,
        image=None,
        image_alt=None,
        topics=(),
        published_at=published_at,
        event=None,
        ready=True,
    )
    return replace(item, **changes)  # type: ignore[arg-type]
