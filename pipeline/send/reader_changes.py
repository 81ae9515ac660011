"""What a bounce, a complaint or an unsubscription does to a reader, wherever it was
reported (a webhook, the bounce mailbox, the one-click link, a mailto: unsubscribe).

Each runs in the caller's transaction and cancels the reader's pending deliveries in it,
so a send that is running claims none of them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pipeline.config import Subscriptions
from pipeline.db import deliveries, issues
from pipeline.send.ledger import cancel_pending_deliveries
from subscribers import store

LEFT = ("bounced", "complained")


@dataclass(frozen=True)
class SoftBounceRule:
    """Soft bounces within `window` after which an address is suppressed."""

    limit: int
    window: timedelta

    @classmethod
    def of(cls, settings: Subscriptions) -> SoftBounceRule:
        return cls(settings.soft_bounce_limit, timedelta(days=settings.soft_bounce_days))


def bounce_reported(
    connection: sa.Connection, email: str, kind: str, detail: str, rule: SoftBounceRule
) -> tuple[store.Subscriber | None, str | None]:
    """Suppress (hard, complaint) or count (soft) the address; returns the reader, if the
    store holds the address, and their state after."""
    state = store.record_bounce(connection, email, kind, detail, rule.limit, rule.window)
    found = store.find(connection, email)
    if found is not None and state in LEFT:
        cancel_pending_deliveries(connection, found.id)
    return found, state


ONE_CLICK = "unsubscribe link (one-click)"
"""The cause of an unsubscribe a mail app posted (RFC 8058, List-Unsubscribe-Post)."""
PAGE = "unsubscribe link (page)"
"""The cause of an unsubscribe by the button of the unsubscribe page."""
MAILTO = "unsubscribe mail (List-Unsubscribe mailto:)"
API = "api: unsubscribed by the token "
"""The start of the cause of an unsubscribe through the API; the token's name follows."""


def unsubscribe(
    connection: sa.Connection, subscriber_id: int, cause: str, *, issue_id: int | None = None
) -> bool:
    """The reader leaves, as by the one-click link; False when they had already left
    (or are not in the store).

    The event names the issue the link came from (`issue_id`); without one (a link made
    before links named their issue), the last issue delivered to the reader.
    """
    subscriber = store.get(connection, subscriber_id)
    if subscriber is None or subscriber.state not in ("active", "pending"):
        return False
    if issue_id is None:
        issue_id = last_issue_delivered(connection, subscriber_id)
    store.set_state(connection, subscriber_id, "unsubscribed", cause, issue_id=issue_id)
    cancel_pending_deliveries(connection, subscriber_id)
    return True


def issue_id_of(connection: sa.Connection, number: int | None) -> int | None:
    """The id of the issue with this number (what reader links carry), if there is one."""
    if number is None:
        return None
    found: int | None = connection.execute(
        sa.select(issues.c.id).where(issues.c.number == number)
    ).scalar()
    return found


def last_issue_delivered(connection: sa.Connection, subscriber_id: int) -> int | None:
    """The issue most recently sent to the reader (its delivery accepted), if any."""
    found: int | None = connection.execute(
        sa.select(deliveries.c.issue_id)
        .join(issues, issues.c.id == deliveries.c.issue_id)
        .where(deliveries.c.subscriber_id == subscriber_id, deliveries.c.state == "sent")
        .order_by(issues.c.number.desc())
        .limit(1)
    ).scalar()
    return found
