"""Building an issue: choose the items, number it, render each variant once, fill the ledger.

All of it happens in one transaction: either the issue exists with its items marked
sent and one delivery per reader, or nothing changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import issue_items, issue_variants, issues, items
from pipeline.errors import SendRefused
from pipeline.issue.model import IssueContent, IssueItem
from pipeline.issue.select import group_into_sections, is_due
from pipeline.render.issue import RenderedIssue, render_issue, subject_for
from pipeline.send import ledger

LOCALES = ("de", "en")


class NothingToSend(SendRefused):
    """Fewer new items than `issue.min_items`: not an error, the next run will look again."""


@dataclass(frozen=True)
class BuiltIssue:
    id: int
    number: int
    subject: str
    item_count: int
    recipients: int


def _as_item(row: sa.Row[tuple[object, ...]]) -> IssueItem:
    m = row._mapping

    return IssueItem(
        id=m["id"],
        key=m["key"],
        source=m["source"],
        kind=m["kind"],
        title=m["title"],
        summary=m["summary"],
        body_html=m["body_html"],
        link=m["link"],
        image=m["image"],
        image_alt=m["image_alt"],
        topics=tuple(m["topics"] or ()),
        published_at=m["published_at"],
        event_start=m["event_start"],
        event_end=m["event_end"],
        event_location=m["event_location"],
        event_online_url=m["event_online_url"],
        publish_after=m["publish_after"],
        expires=m["expires"],
    )


def next_issue_content(connection: sa.Connection, config: Config, at: datetime) -> IssueContent:
    """What the next issue would hold if it were built at `at` (possibly no sections)."""
    states = ("approved",) if config.issue.require_approval else ("queued", "approved")
    rows = connection.execute(sa.select(items).where(items.c.state.in_(states))).all()
    due = [item for item in map(_as_item, rows) if is_due(item, at)]
    number = (connection.execute(sa.select(sa.func.max(issues.c.number))).scalar() or 0) + 1
    sections = group_into_sections(due, max_per_section=config.issue.max_items_per_section)
    return IssueContent(number=number, date=at, sections=sections)


def render_variants(content: IssueContent, config: Config) -> list[RenderedIssue]:
    return [
        render_issue(
            content,
            site=config.site,
            locale=locale,
            subject=subject_for(config.issue.subject, content, config.site, locale),
        )
        for locale in LOCALES
    ]


def unfinished_issue(connection: sa.Connection) -> tuple[int, int] | None:
    """(id, number) of an issue whose send has not finished, if any."""
    row = connection.execute(
        sa.select(issues.c.id, issues.c.number).where(issues.c.state == "sending")
    ).first()
    return None if row is None else (row.id, row.number)


def build_issue(engine: sa.Engine, config: Config, at: datetime) -> BuiltIssue:
    with engine.begin() as connection:
        unfinished = unfinished_issue(connection)
        if unfinished is not None:
            raise SendRefused(
                f"issue {unfinished[1]} has not finished sending: "
                "run `newsletter send --resume` to finish it first"
            )
        content = next_issue_content(connection, config, at)
        if len(content.items) < config.issue.min_items:
            raise NothingToSend(_why_nothing(connection, config, len(content.items)))
        variants = render_variants(content, config)
        issue_id = _insert_issue(connection, content, variants, at)
        recipients = ledger.create_deliveries(connection, issue_id, at)
    return BuiltIssue(
        id=issue_id,
        number=content.number,
        subject=variants[0].subject,
        item_count=len(content.items),
        recipients=recipients,
    )


def _why_nothing(connection: sa.Connection, config: Config, ready: int) -> str:
    reason = (
        f"nothing new to send: {ready} new item(s) ready, issue.min_items is "
        f"{config.issue.min_items}"
    )
    if config.issue.require_approval:
        waiting = connection.execute(
            sa.select(sa.func.count()).select_from(items).where(items.c.state == "queued")
        ).scalar_one()
        if waiting:
            reason += f"; {waiting} queued item(s) await approval (`newsletter queue approve`)"
    return reason


def _insert_issue(
    connection: sa.Connection,
    content: IssueContent,
    variants: Sequence[RenderedIssue],
    at: datetime,
) -> int:
    issue_id: int = connection.execute(
        sa.insert(issues)
        .values(number=content.number, subject=variants[0].subject, state="sending", created_at=at)
        .returning(issues.c.id)
    ).scalar_one()
    connection.execute(
        sa.insert(issue_items),
        [
            {"issue_id": issue_id, "item_id": item.id, "position": position}
            for position, item in enumerate(content.items)
        ],
    )
    connection.execute(
        sa.update(items)
        .where(items.c.id.in_([item.id for item in content.items]))
        .values(state="sent", issue_id=issue_id, updated_at=at)
    )
    connection.execute(
        sa.insert(issue_variants),
        [
            {
                "issue_id": issue_id,
                "variant": variant.locale,
                "subject": variant.subject,
                "html": variant.html,
                "text": variant.text,
            }
            for variant in variants
        ],
    )
    return issue_id
