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


def unsubscribe(connection: sa.Connection, subscriber_id: int, cause: str) -> bool:
    """The reader leaves, as by the one-click link; False when they had already left
    (or are not in the store)."""
    subscriber = store.get(connection, subscriber_id)
    if subscriber is None or subscriber.state not in ("active", "pending"):
        return False
    store.set_state(connection, subscriber_id, "unsubscribed", cause)
    cancel_pending_deliveries(connection, subscriber_id)
    return True
