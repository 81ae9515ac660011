"""Rows of a sent issue's reach, written as `/r/` and `/o/` write them: an issue with its
tracked links, and clicks and opens, anonymous or naming a reader who agreed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import clicks, issue_links, issues, opens


@dataclass(frozen=True)
class SentIssue:
    id: int
    number: int
    link_ids: tuple[int, ...]


def sent_issue(
    connection: sa.Connection, number: int, urls: Sequence[str], at: datetime
) -> SentIssue:
    """Issue `number`, sent, whose one variant tracks `urls` at positions 1.."""
    issue_id = connection.execute(
        sa.insert(issues)
        .values(number=number, subject=f"Ausgabe {number}", state="sent", created_at=at)
        .returning(issues.c.id)
    ).scalar_one()
    link_ids = tuple(
        connection.execute(
            sa.insert(issue_links)
            .values(
                issue_id=issue_id,
                variant_no=1,
                variant="de",
                position=position,
                url=url,
                kind="link",
            )
            .returning(issue_links.c.id)
        ).scalar_one()
        for position, url in enumerate(urls, start=1)
    )
    return SentIssue(issue_id, number, link_ids)


def click(
    connection: sa.Connection,
    issue: SentIssue,
    position: int,
    at: datetime,
    subscriber_id: int | None = None,
) -> None:
    connection.execute(
        sa.insert(clicks).values(
            issue_id=issue.id,
            link_id=issue.link_ids[position - 1],
            clicked_at=at,
            subscriber_id=subscriber_id,
        )
    )


def open_of(
    connection: sa.Connection, issue: SentIssue, at: datetime, subscriber_id: int | None = None
) -> None:
    connection.execute(
        sa.insert(opens).values(
            issue_id=issue.id, variant_no=1, opened_at=at, subscriber_id=subscriber_id
        )
    )


def named_rows(connection: sa.Connection, subscriber_id: int) -> tuple[int, int]:
    """How many clicks and opens name the reader."""
    return tuple(  # type: ignore[return-value]
        connection.execute(
            sa.select(sa.func.count()).where(table.c.subscriber_id == subscriber_id)
        ).scalar_one()
        for table in (clicks, opens)
    )


def counted(connection: sa.Connection) -> tuple[int, int]:
    """How many clicks and opens there are, whoever made them."""
    return tuple(  # type: ignore[return-value]
        connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in (clicks, opens)
    )
