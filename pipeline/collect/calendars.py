"""A calendar's bytes (.ics) into event items: one item for each occurrence in the window.

Pure functions of data, run in worker processes like the feed parser (fetching is shared:
`pipeline.collect.feeds`). Google's X-WR-TIMEZONE files are made standard first
(x-wr-timezone), recurring events are expanded by recurring-ical-events. An event that
cannot be read is skipped, named by its UID; the rest of the calendar is read.

An occurrence's identity is the event's UID, plus its RECURRENCE-ID when the event
recurs: a moved occurrence keeps its key (its item is updated), a cancelled one is no
longer collected, and `pipeline.collect` drops its item from the queue.
"""

from __future__ import annotations

import functools
import hashlib
import html
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from pipeline.collect.calendar_source import CalendarSource, key_prefix
from pipeline.collect.item import CollectedItem, Event
from pipeline.collect.normalize import (
    MAX_IDENTITY,
    SUMMARY_CHARS,
    TITLE_CHARS,
    ParsedFeed,
    absolute_http,
    shorten,
)
from pipeline.collect.sanitize import plain_text, sanitise_html

log = logging.getLogger(__name__)
LOCATION_CHARS = 500
ONLINE_PROPERTIES = (
    "CONFERENCE",  # RFC 7986
    "X-GOOGLE-CONFERENCE",
    "X-MICROSOFT-ONLINEMEETINGURL",
    "X-MICROSOFT-SKYPETEAMSMEETINGURL",
)
MAX_REASON = 200
SHOWN_UID = 120
SHOWN_SKIPPED = 5
_BREAKS = re.compile(r"(<br\s*/?>|</p>|</li>|</div>)", re.IGNORECASE)
"""Where a description's lines end: a space there in the summary (Google writes <br>)."""


class Unreadable(ValueError):
    """An event the calendar's file describes in a way that cannot be read."""


def parse_calendar(
    body: bytes,
    headers: Mapping[str, str],
    final_url: str,
    source: CalendarSource,
    fetched_at: datetime,
) -> ParsedFeed:
    """Every occurrence from `fetched_at` to `source.days` later that has not begun yet."""
    if b"BEGIN:VCALENDAR" not in body[:4096].upper():
        return ParsedFeed(error="not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(body)
    except (ValueError, KeyError, IndexError) as exc:
        return ParsedFeed(error=f"not a readable iCalendar file ({_reason(exc)})")
    result = ParsedFeed()
    try:
        calendar = x_wr_timezone.to_standard(calendar)
    except (ValueError, KeyError) as exc:  # a zone no database knows: times as written
        result.warning = f"X-WR-TIMEZONE not applied ({_reason(exc)})"
    zone = ZoneInfo(source.timezone)
    until = fetched_at + timedelta(days=source.days)
    skipped, unread = [], []
    for uid, events in _events_by_uid(calendar):
        try:
            result.items += _items(
                calendar, uid, events, (fetched_at, until), zone, source, final_url
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            reason = _reason(exc)
            log.warning(
                "calendar %s (%s): skipped event %s: %s", source.name, source.url, uid, reason
            )
            skipped.append(f"UID {uid[:SHOWN_UID]} ({reason})")
            unread.append(_key(source, uid, None))
    if skipped:
        shown = "; ".join(skipped[:SHOWN_SKIPPED])
        more = len(skipped) - SHOWN_SKIPPED
        warning = f"skipped {len(skipped)} unreadable event(s): {shown}" + (
            f"; and {more} more (see the log)" if more > 0 else ""
        )
        result.warning = "; ".join(filter(None, (result.warning, warning)))
        result.unread = tuple(unread)
    return result


def _events_by_uid(calendar: icalendar.Calendar) -> Iterator[tuple[str, list[Any]]]:
    """Each event's components (the series and its changed occurrences) under its UID."""
    by_uid: dict[str, list[Any]] = {}
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            uid = str(component.get("UID") or "").strip() or _made_up_uid(component)
            by_uid.setdefault(uid, []).append(component)
    return iter(by_uid.items())


def _made_up_uid(component: Any) -> str:
    """An event without its required UID: named by its title and start as written."""
    written = f"{component.get('SUMMARY', '')}|{component.get('DTSTART', '')!r}"
    return "sha256:" + hashlib.sha256(written.encode()).hexdigest()[:32]


def _items(
    calendar: icalendar.Calendar,
    uid: str,
    events: list[Any],
    window: tuple[datetime, datetime],
    zone: ZoneInfo,
    source: CalendarSource,
    base_url: str,
) -> list[CollectedItem]:
    """The occurrences of one event (all of them, or an Unreadable for the lot)."""
    for event in events:
        if event.errors:
            name, problem = event.errors[0]
            raise Unreadable(f"{name}: {problem}")
    only = icalendar.Calendar()
    only.subcomponents = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"] + events
    recurs = len(events) > 1 or any("RRULE" in e or "RDATE" in e for e in events)
    start, until = window
    found = []
    for occurrence in recurring_ical_events.of(only).between(start, until):
        if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        item = _occurrence_item(occurrence, uid, recurs, zone, source, base_url, start)
        if item is not None:
            found.append(item)
    return found


def _occurrence_item(
    occurrence: Any,
    uid: str,
    recurs: bool,
    zone: ZoneInfo,
    source: CalendarSource,
    base_url: str,
    fetched_at: datetime,
) -> CollectedItem | None:
    """One occurrence as an event item; None when it has begun already."""
    begins, all_day = _moment(occurrence["DTSTART"].dt, zone)
    if begins <= fetched_at:
        return None
    ends = _end(occurrence, zone)
    title = " ".join(str(occurrence.get("SUMMARY", "")).split())
    if not title:
        raise Unreadable("no title (SUMMARY)")
    location, online_url = _where(occurrence, base_url)
    body_html, summary = _described(str(occurrence.get("DESCRIPTION", "")), base_url)
    recurrence = None
    if recurs:
        recurrence_id, _ = _moment(occurrence["RECURRENCE-ID"].dt, zone)
        recurrence = recurrence_id.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return CollectedItem(
        key=_key(source, uid, recurrence),
        source=source.name,
        kind="event",
        title=title[:TITLE_CHARS],
        summary=summary,
        body_html=body_html,
        link=absolute_http(str(occurrence.get("URL", "")), base_url),
        image=None,
        image_alt=None,
        topics=source.topics,
        published_at=fetched_at,
        event=Event(
            start=begins, end=ends, location=location, online_url=online_url, all_day=all_day
        ),
        ready=True,
        undated=True,  # first seen when first collected: a series' old DTSTAMP never ages it
    )


def _key(source: CalendarSource, uid: str, recurrence: str | None) -> str:
    """`calendar:<url>#<uid>` for a single event, `…#<uid>@<recurrence id, UTC>` for one of
    a series; a UID too long for the store is kept as its hash."""
    if len(uid) > MAX_IDENTITY:
        uid = "sha256:" + hashlib.sha256(uid.encode()).hexdigest()
    return key_prefix(source.url) + (uid if recurrence is None else f"{uid}@{recurrence}")


def _moment(value: object, zone: ZoneInfo) -> tuple[datetime, bool]:
    """A DTSTART-like value as a moment in the site's time zone, and whether it is a date
    (all day). A date begins at midnight there; a floating time is read there too.
    """
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(zone), False
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone), True
    raise Unreadable(f"not a date or time: {value!r}")


def _end(occurrence: Any, zone: ZoneInfo) -> datetime | None:
    if "DTEND" not in occurrence:
        return None
    ends, _ = _moment(occurrence["DTEND"].dt, zone)
    return ends


def _where(occurrence: Any, base_url: str) -> tuple[str | None, str | None]:
    """The place, and the online meeting's address: a conference property, else a
    LOCATION that is itself a web address."""
    location = " ".join(str(occurrence.get("LOCATION", "")).split())[:LOCATION_CHARS] or None
    online = None
    for name in ONLINE_PROPERTIES:
        values = occurrence.get(name)
        for value in values if isinstance(values, list) else [values]:
            online = online or absolute_http(str(value or ""), base_url)
    if location is not None and absolute_http(location, base_url) == location:
        online, location = online or location, None
    return location, online


@functools.lru_cache(maxsize=256)  # a series repeats its description in every occurrence
def _described(description: str, base_url: str) -> tuple[str, str]:
    """The description sanitised (Google writes HTML there, most others plain text), and
    its summary."""
    if not description.strip():
        return "", ""
    if "<" in description and ">" in description:
        body_html = sanitise_html(description, base_url=base_url)
    else:
        paragraphs = [" ".join(part.split()) for part in description.split("\n\n")]
        body_html = "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs if part)
    return body_html, shorten(plain_text(_BREAKS.sub(r"\1 ", body_html)), SUMMARY_CHARS)


def _reason(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:MAX_REASON]
