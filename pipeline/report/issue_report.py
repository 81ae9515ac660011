"""An issue's report, and the headline figures of the last issues: the one query path that
`newsletter report`, `newsletter status` and the desk's issue pages all read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import MAX_ROW_ID, issues, now
from pipeline.errors import NoSuchIssue
from pipeline.report import deliveries as ledger
from pipeline.report.choices import VariantChoice
from pipeline.report.clicks import clicks_by_issue, links_of, opens_by_variant
from pipeline.report.figures import (
    Clicks,
    Deliveries,
    IssueReport,
    Item,
    Link,
    Opens,
    Section,
    Variant,
)


def issue_row(connection: sa.Connection, number: int | None) -> sa.Row[tuple[object, ...]]:
    """The issue of that number, the last one when None."""
    query = sa.select(issues)
    if number is None:
        query = query.order_by(issues.c.number.desc()).limit(1)
    elif not 0 < number <= MAX_ROW_ID:  # names no issue; PostgreSQL would refuse the number
        raise NoSuchIssue(f"issue {number} does not exist")
    else:
        query = query.where(issues.c.number == number)
    row = connection.execute(query).first()
    if row is None:
        raise NoSuchIssue(
            "no issue has been built yet" if number is None else f"issue {number} does not exist"
        )
    return row


def issue_report(connection: sa.Connection, config: Config, number: int | None) -> IssueReport:
    """Everything the issue did, by variant, link, item and section."""
    row = issue_row(connection, number)
    choice = VariantChoice(connection, row.id, config.site.locale)
    by_key = {key: Variant(key, choice.number_of(key)) for key in choice.keys}
    for key, figures in ledger.by_variant(connection, row.id, choice).items():
        by_key.setdefault(key, Variant(key, choice.number_of(key))).deliveries = figures
    links = links_of(connection, row.id)
    for link in links.values():
        by_key.setdefault(link.variant, Variant(link.variant, link.variant_no)).links.append(link)
    variants = sorted(
        (v for v in by_key.values() if v.deliveries.recipients or v.links),
        key=lambda v: (v.number, v.key),
    )
    for variant in variants:
        variant.clicks.agreed = variant.deliveries.agreed
        for link in variant.links:
            link.clicks.agreed = variant.deliveries.agreed
            variant.clicks.add(link.clicks)
    whole = ledger.total({v.key: v.deliveries for v in variants})
    clicked = Clicks(agreed=whole.agreed)
    for variant in variants:
        clicked.add(variant.clicks)
    return IssueReport(
        number=row.number,
        subject=row.subject,
        state=row.state,
        created_at=row.created_at,
        finished_at=row.finished_at,
        tracked=bool(links),
        deliveries=whole,
        clicks=clicked,
        opens=_opens(connection, row.id, variants) if config.analytics.opens else None,
        variants=variants,
        links=_links_once(variants),
        items=_items(variants),
        sections=_sections(variants),
        readers_kept=row.created_at > now() - timedelta(days=config.analytics.retention_days),
    )


def _links_once(variants: list[Variant]) -> list[Link]:
    """Each destination of each item once, its clicks from every variant added up."""
    found: dict[tuple[str, int | None, str], Link] = {}
    for variant in variants:
        for link in variant.links:
            key = (link.url, link.item_id, link.kind)
            if key not in found:
                found[key] = Link(
                    "", 0, link.position, link.url, link.kind, link.item_id, link.item, link.section
                )
            found[key].clicks.add(link.clicks)
            found[key].clicks.agreed += variant.deliveries.agreed
    return list(found.values())


def _items(variants: list[Variant]) -> list[Item]:
    """Each item with links, in the order it first appears; its readers among the agreeing
    readers of the variants that carried it."""
    found: dict[int, Item] = {}
    carried: dict[int, set[str]] = {}
    for variant in variants:
        for link in variant.links:
            if link.item_id is None:
                continue
            item = found.setdefault(
                link.item_id, Item(link.item_id, link.item or "", link.section or "")
            )
            item.clicks.add(link.clicks)
            carried.setdefault(link.item_id, set()).add(variant.key)
    agreed = {v.key: v.deliveries.agreed for v in variants}
    for item_id, item in found.items():
        item.clicks.agreed = sum(agreed[key] for key in carried[item_id])
    return list(found.values())


def _sections(variants: list[Variant]) -> list[Section]:
    found: dict[str, Section] = {}
    carried: dict[str, set[str]] = {}
    for variant in variants:
        for link in variant.links:
            if link.section is None:
                continue
            found.setdefault(link.section, Section(link.section)).clicks.add(link.clicks)
            carried.setdefault(link.section, set()).add(variant.key)
    agreed = {v.key: v.deliveries.agreed for v in variants}
    for kind, section in found.items():
        section.clicks.agreed = sum(agreed[key] for key in carried[kind])
    return list(found.values())


def _opens(connection: sa.Connection, issue_id: int, variants: list[Variant]) -> Opens:
    by_number = opens_by_variant(connection, issue_id)
    whole = Opens()
    for variant in variants:
        variant.opens = by_number.get(variant.number, Opens())
        variant.opens.agreed = variant.deliveries.agreed
        whole.opens += variant.opens.opens
        whole.machine_opens += variant.opens.machine_opens
        whole.readers |= variant.opens.readers
        whole.agreed += variant.opens.agreed
    return whole


@dataclass(frozen=True)
class Headline:
    """An issue's headline figures, for `status` and the desk's list of issues."""

    number: int
    subject: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    deliveries: Deliveries
    clicks: Clicks

    @property
    def per_second(self) -> float | None:
        """Sent recipients a second over the send's whole duration."""
        if self.finished_at is None:
            return None
        seconds = (self.finished_at - self.created_at).total_seconds()
        return self.deliveries.sent / seconds if seconds > 0 else None


def headlines(connection: sa.Connection, limit: int = 5, offset: int = 0) -> list[Headline]:
    """The last issues, newest first, with the same figures as their reports' totals."""
    rows = connection.execute(
        sa.select(issues).order_by(issues.c.number.desc()).limit(limit).offset(offset)
    ).all()
    ids = [row.id for row in rows]
    figures = ledger.by_issue(connection, ids)
    clicked = clicks_by_issue(connection, ids)
    found = []
    for row in rows:
        clicked[row.id].agreed = figures[row.id].agreed
        found.append(
            Headline(
                row.number,
                row.subject,
                row.state,
                row.created_at,
                row.finished_at,
                figures[row.id],
                clicked[row.id],
            )
        )
    return found


def issue_count(connection: sa.Connection) -> int:
    return int(connection.execute(sa.select(sa.func.count()).select_from(issues)).scalar_one())
