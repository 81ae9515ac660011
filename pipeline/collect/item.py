"""The collected item: what every source (feed, page or folder) turns its entries into."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime

from pipeline.config import ItemKind


@dataclass(frozen=True)
class Event:
    start: datetime
    end: datetime | None
    location: str | None
    online_url: str | None
    all_day: bool = False
    """A calendar's date-only event: `start` and `end` are midnights in the site's zone,
    `end` the day after the last (as iCalendar's DTEND)."""


@dataclass(frozen=True)
class CollectedItem:
    key: str
    """Stable identity: `folder:<relative path>`, `feed:<feed url>#<guid or link>` or
    `page:<page url>#<link>`."""
    source: str
    kind: ItemKind
    title: str
    summary: str
    """Plain text, never interpreted as markup."""
    body_html: str
    """Sanitised HTML fit for email."""
    link: str | None
    image: str | None
    image_alt: str | None
    topics: tuple[str, ...]
    published_at: datetime
    event: Event | None
    ready: bool
    """False for a draft: kept out of the queue until an editor marks it ready."""
    publish_after: datetime | None = None
    expires: datetime | None = None
    categories: tuple[str, ...] = ()
    """The feed's own categories for the entry, as the feed names them."""
    undated: bool = False
    """True when the entry carried no date and `published_at` is when it was first seen."""

    @property
    def from_folder(self) -> bool:
        return self.key.startswith("folder:")

    def content_hash(self) -> str:
        """A fingerprint of what readers see, to tell an edited item from an unchanged one."""
        values = _fields_of(self)
        # Not `asdict`: its deep copies of every date were most of the cost of storing.
        event = None if self.event is None else _fields_of(self.event)
        if event is not None and not event["all_day"]:
            del event["all_day"]  # as before all-day events were known: no edit of its own
        values["event"] = event
        if self.undated:
            values["published_at"] = None  # first seen at each collect: not an edit
        encoded = json.dumps(values, default=str, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()


def _fields_of(instance: Event | CollectedItem) -> dict[str, object]:
    return {field.name: getattr(instance, field.name) for field in fields(instance)}
