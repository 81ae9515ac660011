"""Cron triggers from config.yaml, read in the site's time zone, so 09:00 stays 09:00
local time across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that fires once per wall-clock time.

    When clocks go back, 02:30 happens twice; APScheduler's CronTrigger fires at both.
    A newsletter schedule means the time on the wall, once.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        candidate: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if candidate is None or previous_fire_time is None:
            return candidate
        if _wall_clock(candidate, self.timezone) == _wall_clock(previous_fire_time, self.timezone):
            later: datetime | None = super().get_next_fire_time(candidate, candidate)
            return later
        return candidate


def _wall_clock(moment: datetime, zone: object) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)  # type: ignore[arg-type]


def cron_trigger(expression: str, timezone: str) -> WallClockCronTrigger:
    """The expression was validated with the config; only the zone is added here."""
    trigger: WallClockCronTrigger = WallClockCronTrigger.from_crontab(
        expression, timezone=ZoneInfo(timezone)
    )
    return trigger


def issue_after_next(expression: str, timezone: str, at: datetime) -> datetime:
    """When the issue after next goes out by the send schedule, seen from a send at `at`."""
    trigger = cron_trigger(expression, timezone)
    step = timedelta(microseconds=1)
    following: datetime | None = trigger.get_next_fire_time(None, at + step)
    assert following is not None  # a crontab has no end date: there is always a next time
    after: datetime | None = trigger.get_next_fire_time(following, following + step)
    assert after is not None
    return after
