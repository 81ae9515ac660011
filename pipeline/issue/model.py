"""An issue as data: numbered, its items grouped into sections in reading order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.config import ItemKind

SECTION_ORDER: tuple[ItemKind, ...] = ("intro", "report", "partner", "event", "news")


@dataclass(frozen=True)
class IssueItem:
    id: int
    key: str
    source: str
    kind: ItemKind
    title: str
    summary: str
    body_html: str
    link: str | None
    image: str | None
    image_alt: str | None
    topics: tuple[str, ...]
    published_at: datetime
    event_start: datetime | None
    event_end: datetime | None
    event_location: str | None
    event_online_url: str | None
    publish_after: datetime | None = None
    expires: datetime | None = None
    event_all_day: bool = False
    correction: str | None = None
    """A sent event moved (`moved`: the event's times are the new ones) or `cancelled`."""

    @property
    def from_calendar(self) -> bool:
        """An occurrence of a calendar's event (see `pipeline.collect.calendar_source`)."""
        return self.key.startswith("calendar:")


@dataclass(frozen=True)
class Section:
    kind: ItemKind
    items: tuple[IssueItem, ...]


@dataclass(frozen=True)
class IssueContent:
    number: int
    date: datetime
    sections: tuple[Section, ...]
    corrections: tuple[IssueItem, ...] = ()
    """Events an earlier issue announced that have moved or been cancelled since."""

    @property
    def items(self) -> tuple[IssueItem, ...]:
        return tuple(item for section in self.sections for item in section.items)
