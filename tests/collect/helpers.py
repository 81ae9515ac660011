"""Reading what the queue holds, as an editor would see it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

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
