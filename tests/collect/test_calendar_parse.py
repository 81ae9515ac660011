"""Reading one calendar's bytes: pure functions, no server (the cases the wild sends)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.collect.calendar_source import CalendarSource
from pipeline.collect.calendars import parse_calendar
from pipeline.collect.normalize import ParsedFeed

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
SOURCE = CalendarSource("https://partner.example.org/c.ics", "Partner", (), "Europe/Berlin", 90)


def parse(*events: str, head: str = "") -> ParsedFeed:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//DE", *head.split("\n")]
    for event in events:
        lines += ["BEGIN:VEVENT", *event.strip().split("\n"), "END:VEVENT"]
    body = "\r\n".join([*filter(None, lines), "END:VCALENDAR", ""]).encode()
    return parse_calendar(body, {}, SOURCE.url, SOURCE, AT)


def test_an_unknown_x_wr_timezone_is_named_and_the_times_read_as_written() -> None:
    parsed = parse(
        "UID:a\nDTSTART:20261210T170000Z\nSUMMARY:Offenes Atelier",
        head="X-WR-TIMEZONE:Mars/Olympus",
    )
    assert parsed.error is None and "X-WR-TIMEZONE" in (parsed.warning or "")
    [item] = parsed.items
    assert item.event is not None and item.event.start == datetime(2026, 12, 10, 17, tzinfo=UTC)


def test_a_bad_rule_or_a_missing_title_skips_that_event_by_uid() -> None:
    parsed = parse(
        "UID:regel@x\nDTSTART:20261210T170000Z\nRRULE:FREQ=SOMETIMES\nSUMMARY:Kaputte Regel",
        "UID:ohne-titel@x\nDTSTART:20261211T170000Z",
        "UID:gut@x\nDTSTART:20261212T170000Z\nSUMMARY:Guter Termin",
    )
    assert [item.title for item in parsed.items] == ["Guter Termin"]
    assert "UID regel@x (RRULE" in (parsed.warning or "")
    assert "UID ohne-titel@x (no title" in (parsed.warning or "")
    assert set(parsed.unread) == {
        f"calendar:{SOURCE.url}#regel@x",
        f"calendar:{SOURCE.url}#ohne-titel@x",
    }


def test_a_truncated_file_is_an_error_and_an_html_page_is_no_calendar() -> None:
    truncated = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261210T170000Z\r\n"
    assert "not a readable iCalendar file" in (
        parse_calendar(truncated, {}, SOURCE.url, SOURCE, AT).error or ""
    )
    page = b"<!doctype html><title>Termine</title>"
    assert parse_calendar(page, {}, SOURCE.url, SOURCE, AT).error == (
        "not an iCalendar file (no BEGIN:VCALENDAR)"
    )


def test_only_web_links_are_kept_and_a_web_location_is_the_online_meeting() -> None:
    [item] = parse(
        "UID:a\nDTSTART:20261210T170000Z\nSUMMARY:Online-Sprechstunde\n"
        "URL:javascript:alert(1)\nLOCATION:https://zoom.example.org/j/123"
    ).items
    assert item.link is None
    assert item.event is not None
    assert (item.event.location, item.event.online_url) == (None, "https://zoom.example.org/j/123")


def test_floating_times_are_the_sites_and_begun_events_are_left_out() -> None:
    parsed = parse(
        "UID:a\nDTSTART:20261210T190000\nSUMMARY:Lesung im Quartier",
        "UID:b\nDTSTART:20261130T190000Z\nSUMMARY:Schon vorbei",
    )
    [item] = parsed.items
    assert item.event is not None
    assert item.event.start.isoformat() == "2026-12-10T19:00:00+01:00"
    assert item.published_at == AT and item.undated
