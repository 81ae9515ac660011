"""Clicks on an issue's tracked links, per link of each variant, and the opens.

Three small reads, each on the clicks' (issue, link) index: the links, the clicks counted by
link and machine reason, and the distinct (link, reader) pairs of readers who agreed to
personalised statistics. Everything else (items, sections, variants) is added up here.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from pipeline.db import clicks, issue_links, items, opens
from pipeline.report.figures import Clicks, Link, Opens


def links_of(connection: sa.Connection, issue_id: int) -> dict[int, Link]:
    """{link id: the link, with its clicks}, in variant and position order."""
    rows = connection.execute(
        sa.select(issue_links, items.c.title, items.c.kind.label("section"))
        .outerjoin(items, items.c.id == issue_links.c.item_id)
        .where(issue_links.c.issue_id == issue_id)
        .order_by(issue_links.c.variant_no, issue_links.c.position)
    )
    found = {
        row.id: Link(
            row.variant,
            row.variant_no,
            row.position,
            row.url,
            row.kind,
            row.item_id,
            row.title,
            row.section,
        )
        for row in rows
    }
    counted = connection.execute(
        sa.select(clicks.c.link_id, clicks.c.machine, sa.func.count())
        .where(clicks.c.issue_id == issue_id)
        .group_by(clicks.c.link_id, clicks.c.machine)
    )
    for link_id, machine, count in counted:
        found[link_id].clicks.count(machine, count)
    readers = connection.execute(
        sa.select(clicks.c.link_id, clicks.c.subscriber_id)
        .where(
            clicks.c.issue_id == issue_id,
            clicks.c.machine.is_(None),
            clicks.c.subscriber_id.is_not(None),
        )
        .group_by(clicks.c.link_id, clicks.c.subscriber_id)
    )
    for link_id, subscriber_id in readers:
        found[link_id].clicks.readers.add(subscriber_id)
    return found


def clicks_by_issue(connection: sa.Connection, issue_ids: list[int]) -> dict[int, Clicks]:
    """{issue id: its clicks}, without `agreed` (the caller knows it)."""
    found = {issue_id: Clicks() for issue_id in issue_ids}
    if not issue_ids:
        return found
    counted = connection.execute(
        sa.select(clicks.c.issue_id, clicks.c.machine, sa.func.count())
        .where(clicks.c.issue_id.in_(issue_ids))
        .group_by(clicks.c.issue_id, clicks.c.machine)
    )
    for issue_id, machine, count in counted:
        found[issue_id].count(machine, count)
    readers = connection.execute(
        sa.select(clicks.c.issue_id, clicks.c.subscriber_id)
        .where(
            clicks.c.issue_id.in_(issue_ids),
            clicks.c.machine.is_(None),
            clicks.c.subscriber_id.is_not(None),
        )
        .group_by(clicks.c.issue_id, clicks.c.subscriber_id)
    )
    for issue_id, subscriber_id in readers:
        found[issue_id].readers.add(subscriber_id)
    return found


def opens_by_variant(connection: sa.Connection, issue_id: int) -> dict[int, Opens]:
    """{variant number: its opens}, without `agreed`."""
    found: defaultdict[int, Opens] = defaultdict(Opens)
    counted = connection.execute(
        sa.select(opens.c.variant_no, opens.c.machine.is_(None), sa.func.count())
        .where(opens.c.issue_id == issue_id)
        .group_by(opens.c.variant_no, opens.c.machine.is_(None))
    )
    for variant_no, by_reader, count in counted:
        if by_reader:
            found[variant_no].opens += count
        else:
            found[variant_no].machine_opens += count
    readers = connection.execute(
        sa.select(opens.c.variant_no, opens.c.subscriber_id)
        .where(
            opens.c.issue_id == issue_id,
            opens.c.machine.is_(None),
            opens.c.subscriber_id.is_not(None),
        )
        .group_by(opens.c.variant_no, opens.c.subscriber_id)
    )
    for variant_no, subscriber_id in readers:
        found[variant_no].readers.add(subscriber_id)
    return dict(found)
