"""Dates and times as readers expect them in their language, in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, format_time

DATE_FORMATS = {"de": "EEEE, d. MMMM y", "en": "EEEE, MMMM d, y"}
TIME_FORMATS = {"de": "HH:mm 'Uhr'", "en": "h:mm a"}
INTERVAL_SKELETONS = {"de": "Hm", "en": "hm"}
NUMERIC_DATE_FORMATS = {"de": "dd.MM.y", "en": "d MMM y"}
LIST_TIME_FORMATS = {"de": "HH:mm", "en": "HH:mm"}


def long_date(moment: datetime, locale: str, timezone: str) -> str:
    """`Donnerstag, 3. Dezember 2026` / `Thursday, December 3, 2026`."""
    local = moment.astimezone(ZoneInfo(timezone))
    return format_date(local.date(), DATE_FORMATS[locale], locale=locale)


def short_date(moment: datetime, locale: str, timezone: str) -> str:
    """`17. Februar 2022` / `February 17, 2022`."""
    local = moment.astimezone(ZoneInfo(timezone))
    return format_date(local.date(), "long", locale=locale)


def clock_time(moment: datetime, locale: str, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return format_time(local.timetz(), TIME_FORMATS[locale], locale=locale)


def event_when(
    start: datetime, end: datetime | None, locale: str, timezone: str, *, all_day: bool = False
) -> str:
    """`Donnerstag, 3. Dezember 2026, 18:00–20:00 Uhr`; an end on another day is written out.

    An all-day event is its days: `Samstag, 5. Dezember 2026` (its end is the next midnight).
    """
    day = long_date(start, locale, timezone)
    if all_day:
        zone = ZoneInfo(timezone)
        last = None if end is None else end - timedelta(days=1)
        if last is None or last.astimezone(zone).date() <= start.astimezone(zone).date():
            return day
        return f"{day} – {long_date(last, locale, timezone)}"
    if end is None:
        return f"{day}, {clock_time(start, locale, timezone)}"
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() == local_end.date():
        hours = format_interval(
            local_start.time(), local_end.time(), INTERVAL_SKELETONS[locale], locale=locale
        )
        return f"{day}, {hours}"
    return (
        f"{day}, {clock_time(start, locale, timezone)} – "
        f"{long_date(end, locale, timezone)}, {clock_time(end, locale, timezone)}"
    )


def numeric_date(day: date, locale: str) -> str:
    """`07.12.2026` / `7 Dec 2026`: a day in a list or a table."""
    return format_date(day, NUMERIC_DATE_FORMATS[locale], locale=locale)


def numeric_moment(moment: datetime, locale: str, timezone: str) -> str:
    """`07.12.2026, 18:00` / `7 Dec 2026, 18:00`, in the site's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    clock = format_time(local.timetz(), LIST_TIME_FORMATS[locale], locale=locale)
    return f"{numeric_date(local.date(), locale)}, {clock}"


def listed_when(
    published_at: datetime,
    event_start: datetime | None,
    locale: str,
    timezone: str,
    *,
    all_day: bool = False,
) -> str:
    """An item's date in a list: an event's start with its time (an all-day event's day
    alone), else the day it appeared."""
    if event_start is not None and all_day:
        return numeric_date(event_start.astimezone(ZoneInfo(timezone)).date(), locale)
    if event_start is not None:
        return numeric_moment(event_start, locale, timezone)
    return numeric_date(published_at.astimezone(ZoneInfo(timezone)).date(), locale)
