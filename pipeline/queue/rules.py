"""When an item leaves the queue by itself: pure functions of the item and the moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

OPEN_STATES = ("submitted", "draft", "queued", "held", "approved")


@dataclass(frozen=True)
class Lifetime:
    """The dates that decide whether an item is still news."""

    published_at: datetime
    expires: datetime | None
    event_start: datetime | None
    from_folder: bool


def expiry_reason(item: Lifetime, at: datetime, max_age: timedelta | None) -> str | None:
    """Why an item has expired at `at`, or None while it is still news.

    An item expires past its `expires`, when its event has started, or, for a feed's
    entry, when it is older than `max_age` (editors' own items expire only by date, events
    when they begin: a calendar's event first seen months ahead is still news).
    """
    if item.expires is not None and item.expires <= at:
        return "past its expiry date"
    if item.event_start is not None:
        return "the event has started" if item.event_start <= at else None
    if max_age is not None and not item.from_folder and item.published_at < at - max_age:
        return f"older than {max_age.days} days"
    return None
