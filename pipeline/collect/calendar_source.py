"""A configured calendar as collect knows it, and the keys of its items.

Apart from `pipeline.collect.calendars` so that storing needs none of the parsers' imports.
"""

from __future__ import annotations

from dataclasses import dataclass


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
