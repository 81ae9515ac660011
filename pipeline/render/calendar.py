"""An event as an iCalendar file (RFC 5545), for the issue's "add to calendar" links."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from pipeline.config import Site
from pipeline.issue.model import IssueItem

PRODUCT_ID = "-//newsletter-pipeline//Termine//DE"


def event_calendar(item: IssueItem, site: Site, *, stamp: datetime) -> bytes:
    """One VEVENT whose UID stays the same, so importing it twice updates, not duplicates."""
    if item.event_start is None:
        raise ValueError(f"item {item.key} is not an event")
    domain = site.sender.address.rpartition("@")[2]
    event = Event()
    event.add("uid", f"item-{item.id}@{domain}")
    event.add("dtstamp", stamp.astimezone(UTC))
    if item.event_all_day:  # its days, as dates: midnight in the site's zone is no moment
        zone = ZoneInfo(site.timezone)
        event.add("dtstart", item.event_start.astimezone(zone).date())
        if item.event_end is not None:
            event.add("dtend", item.event_end.astimezone(zone).date())
    else:
        event.add("dtstart", item.event_start.astimezone(UTC))
        if item.event_end is not None:
            event.add("dtend", item.event_end.astimezone(UTC))
    if item.correction is not None:
        # A later version of the event the readers imported: a higher SEQUENCE tells their
        # calendars to take it, and between equal ones the later DTSTAMP wins (RFC 5546).
        event.add("sequence", 1)
    if item.correction == "cancelled":
        event.add("status", "CANCELLED")
    event.add("summary", item.title)
    description = [item.summary] if item.summary else []
    description += [url for url in (item.link, item.event_online_url) if url]
    if description:
        event.add("description", "\n\n".join(description))
    where = item.event_location or item.event_online_url
    if where:
        event.add("location", where)
    if item.link:
        event.add("url", item.link)
    event.add("organizer", f"mailto:{site.sender.address}", parameters={"cn": site.sender.name})
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", site.timezone)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
