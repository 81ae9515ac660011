"""Cron schedules fire at local wall-clock time on both sides of a daylight-saving change."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.schedule.triggers import cron_trigger

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("now", "expected_utc"),
    [
        # Summer time (UTC+2) until Sunday 25 October 2026, then winter time (UTC+1).
        (datetime(2026, 10, 20, 12, 0, tzinfo=BERLIN), "2026-10-22T07:00:00+00:00"),
        (datetime(2026, 10, 23, 12, 0, tzinfo=BERLIN), "2026-10-29T08:00:00+00:00"),
        # Back to summer time on Sunday 28 March 2027.
        (datetime(2027, 3, 23, 12, 0, tzinfo=BERLIN), "2027-03-25T08:00:00+00:00"),
        (datetime(2027, 3, 26, 12, 0, tzinfo=BERLIN), "2027-04-01T07:00:00+00:00"),
    ],
)
def test_weekly_send_fires_at_nine_local_across_dst(now: datetime, expected_utc: str) -> None:
    trigger = cron_trigger("0 9 * * thu", "Europe/Berlin")
    fire = trigger.get_next_fire_time(None, now)
    assert fire.astimezone(BERLIN).strftime("%A %H:%M") == "Thursday 09:00"
    assert fire.astimezone(ZoneInfo("UTC")).isoformat() == expected_utc


def test_a_daily_job_in_the_repeated_hour_fires_once() -> None:
    """02:30 happens twice on 25 October 2026; the job must not run twice that night."""
    trigger = cron_trigger("30 2 * * *", "Europe/Berlin")
    first = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN))
    second = trigger.get_next_fire_time(first, first)
    third = trigger.get_next_fire_time(second, second)
    days = [moment.astimezone(BERLIN).date().isoformat() for moment in (first, second, third)]
    assert days == ["2026-10-25", "2026-10-26", "2026-10-27"]
