"""A configured calendar as collect knows it, and the keys of its items.

Apart from `pipeline.collect.calendars` so that storing, and a collect whose calendars all
answer 304, need none of the parsers' imports (a fifth of such a collect's time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.collect.normalize import ParsedFeed

ACCEPT = "text/calendar, application/calendar+xml;q=0.5, */*;q=0.1"


@dataclass(frozen=True)
class CalendarSource:
    url: str
    name: str
    topics: tuple[str, ...]
    timezone: str
    """The site's time zone: floating times are read in it, all-day events begin in it."""
    days: int
    """How many days ahead occurrences are read (`collect.calendar_days`)."""


def key_prefix(source_url: str) -> str:
    """What the keys of a calendar's items begin with: `calendar:<url>#`."""
    return f"calendar:{source_url}#"


def parse(
    body: bytes,
    headers: Mapping[str, str],
    final_url: str,
    source: CalendarSource,
    fetched_at: datetime,
) -> ParsedFeed:
    """`pipeline.collect.calendars.parse_calendar`, imported by the worker that parses."""
    from pipeline.collect.calendars import parse_calendar

    return parse_calendar(body, headers, final_url, source, fetched_at)
