"""What became of an issue's messages: the ledger, what the services and the bounce mailbox
said of each delivery (delivery_events), and the unsubscribes the issue caused.

Bounces and blocks come from `delivery_events`, which webhooks and the bounce mailbox both
write on the delivery their event names; a delivery counts once, by its gravest event:
hard, then soft, then block. A complaint is counted beside that (the mail arrived).
Unsubscribes are the `subscriber_events` that name the issue.

Two shapes over the same rules: one issue by variant (`report`), several issues whole
(`status`, the desk's list of issues).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa

from pipeline.db import deliveries, delivery_events
from pipeline.report.choices import TOPICS_TEXT, VariantChoice
from pipeline.report.figures import Deliveries
from pipeline.send.reader_changes import API
from subscribers.schema import subscriber_events, subscribers

Key = TypeVar("Key", bound=Hashable)

EVENT_KINDS = ("hard", "soft", "block", "complaint")
# Had the reader agreed to personalised statistics when their message was handed over?
# (`updated_at` of a sent row is when it was sent.) Only then did its links name them.
AGREED = sa.case(
    (
        sa.and_(
            subscribers.c.stats_consent_at.is_not(None),
            subscribers.c.stats_consent_at <= deliveries.c.updated_at,
        ),
        1,
    ),
    else_=0,
)


def unsubscribe_way(cause: str) -> str:
    """one_click, mail, api or page, from the cause the unsubscribe was logged with."""
    if cause.startswith(API):  # before the rest: a token's name may say anything
        return "api"
    lowered = cause.lower()
    if "one-click" in lowered:
        return "one_click"
    if "mailto" in lowered:
        return "mail"
    return "page"


def by_variant(
    connection: sa.Connection, issue_id: int, choice: VariantChoice
) -> dict[str, Deliveries]:
    """{variant key: its figures} for one issue."""
    found: defaultdict[str, Deliveries] = defaultdict(Deliveries)
    reader = (subscribers.c.locale, TOPICS_TEXT)
    states = connection.execute(
        sa.select(*reader, deliveries.c.state, AGREED, sa.func.count())
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .where(deliveries.c.issue_id == issue_id)
        .group_by(*reader, deliveries.c.state, AGREED)
    )
    for locale, topics, state, agreed, count in states:
        _count_state(found[choice(locale, topics)], state, bool(agreed), count)
    events = _events(connection, deliveries.c.issue_id == issue_id, *reader)
    for (locale, topics), state, agreed, kinds in events:
        _count_events(found[choice(locale, topics)], state, agreed, kinds)
    for (locale, topics), cause, count in _unsubscribes(connection, [issue_id], *reader):
        _count_unsubscribes(found[choice(locale, topics)], cause, count)
    return dict(found)


def by_issue(connection: sa.Connection, issue_ids: list[int]) -> dict[int, Deliveries]:
    """{issue id: its figures} for several issues, without reading every delivery's reader:
    only the agreeing readers are joined, who are few."""
    found: dict[int, Deliveries] = {issue_id: Deliveries() for issue_id in issue_ids}
    if not issue_ids:
        return found
    states = connection.execute(
        sa.select(deliveries.c.issue_id, deliveries.c.state, sa.func.count())
        .where(deliveries.c.issue_id.in_(issue_ids))
        .group_by(deliveries.c.issue_id, deliveries.c.state)
    )
    for issue_id, state, count in states:
        _count_state(found[issue_id], state, False, count)
    agreeing = connection.execute(
        sa.select(deliveries.c.issue_id, sa.func.count())
        .select_from(subscribers)
        .join(
            deliveries,
            sa.and_(
                deliveries.c.subscriber_id == subscribers.c.id,
                deliveries.c.issue_id.in_(issue_ids),
            ),
        )
        .where(AGREED == 1, deliveries.c.state == "sent")
        .group_by(deliveries.c.issue_id)
    )
    for issue_id, count in agreeing:
        found[issue_id].sent_to_agreed += count
    events = _events(connection, deliveries.c.issue_id.in_(issue_ids), deliveries.c.issue_id)
    for (issue_id,), state, agreed, kinds in events:
        _count_events(found[issue_id], state, agreed, kinds)
    for (issue_id,), cause, count in _unsubscribes(
        connection, issue_ids, subscriber_events.c.issue_id
    ):
        _count_unsubscribes(found[issue_id], cause, count)
    return found


def _count_state(target: Deliveries, state: str, agreed: bool, count: int) -> None:
    target.recipients += count
    target.by_state[state] = target.by_state.get(state, 0) + count
    if state == "sent":
        target.sent += count
        target.sent_to_agreed += count if agreed else 0
    elif state in ("pending", "sending"):
        target.pending += count
    elif state == "cancelled":
        target.skipped += count
    elif state == "failed":
        target.failed += count
    elif state == "unsettled":
        target.unsettled += count


def _count_events(target: Deliveries, state: str, agreed: bool, kinds: set[str]) -> None:
    """A bounce or block counts against what was sent, so only on a sent row: one for an
    unsettled or failed row (a DSN is found by its token whatever the row's state) would
    take `delivered`, sent less bounced and blocked, below zero."""
    if "complaint" in kinds:
        target.complaints += 1
    if state != "sent":
        return
    if "hard" in kinds:
        target.bounced_hard += 1
    elif "soft" in kinds:
        target.bounced_soft += 1
    elif "block" in kinds:
        target.blocked += 1
    else:
        return
    if agreed:
        target.lost_of_agreed += 1


def _count_unsubscribes(target: Deliveries, cause: str, count: int) -> None:
    way = unsubscribe_way(cause)
    target.unsubscribed_by[way] = target.unsubscribed_by.get(way, 0) + count


def _events(
    connection: sa.Connection, which: sa.ColumnElement[bool], *group: sa.ColumnElement[Any]
) -> Iterable[tuple[tuple[Any, ...], str, bool, set[str]]]:
    """Each delivery with events that count: (its group, state, agreed?, its event kinds).
    A few rows an issue: only bounces, blocks and complaints are read."""
    rows = connection.execute(
        sa.select(deliveries.c.id, *group, deliveries.c.state, AGREED, delivery_events.c.kind)
        .select_from(delivery_events)
        .join(deliveries, deliveries.c.id == delivery_events.c.delivery_id)
        .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        .where(which, delivery_events.c.kind.in_(EVENT_KINDS))
    )
    seen: dict[int, tuple[tuple[Any, ...], str, bool, set[str]]] = {}
    for row in rows:
        delivery_id, *values, state, agreed, kind = row
        entry = seen.setdefault(delivery_id, (tuple(values), state, bool(agreed), set()))
        entry[3].add(kind)
    return seen.values()


def _unsubscribes(
    connection: sa.Connection, issue_ids: list[int], *group: sa.ColumnElement[Any]
) -> Iterable[tuple[tuple[Any, ...], str, int]]:
    rows = connection.execute(
        sa.select(*group, subscriber_events.c.cause, sa.func.count())
        .select_from(subscriber_events)
        .join(subscribers, subscribers.c.id == subscriber_events.c.subscriber_id)
        .where(
            subscriber_events.c.issue_id.in_(issue_ids),
            subscriber_events.c.state == "unsubscribed",
        )
        .group_by(*group, subscriber_events.c.cause)
    )
    for *values, cause, count in rows:
        yield tuple(values), cause, count


def total(parts: Mapping[Key, Deliveries]) -> Deliveries:
    whole = Deliveries()
    for part in parts.values():
        whole.add(part)
    return whole
