"""A message's verdict, applied to the deliveries its valid tokens name.

The delivery id of a token must exist, and its subscriber is the one acted on: an
address in the body (a report's Final-Recipient, a forged header) never picks a reader.

    hard         suppressed, as a hard-bounce webhook does; pending deliveries cancelled
    soft         counted; suppressed after `soft_bounce_limit` within `soft_bounce_days`
    block        counted on the delivery (event `block`); never suppresses
    complaint    suppressed at once, and counted
    auto_reply   counted on the delivery; the reader is left alone
    unsubscribe  the reader leaves, as by the one-click link; counted for the delivery's issue
    reply        nobody is touched; left unread in the folder (or forwarded)
    unrecognised nobody is touched; filed in the unrecognised folder

Each acted-on delivery gets a delivery event (provider `mailbox`), as a webhook's does,
so the issue's counts see bounces from both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.bounces.mailbox import Destination
from pipeline.bounces.verdict import Verdict
from pipeline.db import deliveries
from pipeline.send.events import record_event
from pipeline.send.reader_changes import MAILTO, SoftBounceRule, bounce_reported, unsubscribe
from subscribers import store

PROVIDER = "mailbox"
"""The delivery events' `provider` for what came back to the bounce mailbox."""
MAX_DETAIL = 500


@dataclass(frozen=True)
class Applied:
    destination: Destination
    delivery_id: int | None
    action: str
    """What was done, one line: for `bounces fetch`, the row, and the logs."""


def existing_deliveries(connection: sa.Connection, ids: tuple[int, ...]) -> dict[int, int]:
    """{delivery id: its subscriber} for those of `ids` that exist, in the verdict's order,
    one a subscriber (a mail naming two of a reader's deliveries is one bounce)."""
    if not ids:
        return {}
    found = dict(
        connection.execute(
            sa.select(deliveries.c.id, deliveries.c.subscriber_id).where(deliveries.c.id.in_(ids))
        ).all()
    )
    named: dict[int, int] = {}
    for delivery_id in ids:
        if delivery_id in found and found[delivery_id] not in named.values():
            named[delivery_id] = found[delivery_id]
    return named


def detail_of(verdict: Verdict) -> str:
    text = " ".join(part for part in (verdict.status or "", verdict.diagnostic) if part)
    return " ".join(text.split())[:MAX_DETAIL] or verdict.kind


def apply_verdict(
    connection: sa.Connection,
    verdict: Verdict,
    rule: SoftBounceRule,
    at: datetime,
) -> Applied:
    """Act on the verdict in the caller's transaction. A reply is kept: forwarding it,
    when asked, is done after the commit (`fetch`), with no transaction open."""
    named = existing_deliveries(connection, verdict.delivery_ids)
    first = next(iter(named), None)
    if verdict.kind == "reply":
        return Applied("kept", first, "a reply, left unread in the mailbox")
    if verdict.kind == "unrecognised":
        return Applied("unrecognised", first, "not recognised; nobody touched")
    if not named:
        missing = ", ".join(map(str, verdict.delivery_ids))
        why = f"delivery {missing} does not exist" if missing else "no valid delivery token"
        return Applied("unrecognised", None, f"{verdict.kind}, but {why}; nobody touched")
    actions = []
    for delivery_id, subscriber_id in named.items():
        actions.append(_act(connection, verdict, delivery_id, subscriber_id, rule, at))
    return Applied("processed", first, "; ".join(actions))


def _act(
    connection: sa.Connection,
    verdict: Verdict,
    delivery_id: int,
    subscriber_id: int,
    rule: SoftBounceRule,
    at: datetime,
) -> str:
    detail = detail_of(verdict)
    record_event(connection, delivery_id, PROVIDER, verdict.kind, detail, at)
    reader = store.get(connection, subscriber_id)
    if reader is None:  # erased since; the delivery row went with them, so rarely seen
        return f"delivery {delivery_id}: its reader is gone"
    who = f"delivery {delivery_id} (subscriber {subscriber_id})"
    if verdict.kind in ("hard", "soft", "complaint"):
        cause = f"{verdict.kind} bounce by mail: {detail}"
        if verdict.kind == "complaint":
            cause = f"complaint by mail: {detail}"
        _found, state = bounce_reported(connection, reader.email, verdict.kind, cause, rule)
        return f"{who}: {verdict.kind}, now {state}"
    if verdict.kind == "unsubscribe":
        issue_id = connection.execute(
            sa.select(deliveries.c.issue_id).where(deliveries.c.id == delivery_id)
        ).scalar_one()
        left = unsubscribe(connection, subscriber_id, MAILTO, issue_id=issue_id)
        return f"{who}: unsubscribed" if left else f"{who}: had already left ({reader.state})"
    return f"{who}: {verdict.kind} counted"
