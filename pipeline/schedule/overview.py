"""What `status` shows of the daemon: who holds the lock, the next runs, the last outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import daemon_locks, schedule_events, scheduler_jobs
from pipeline.schedule.leader import LOCK_NAME
from pipeline.schedule.triggers import cron_trigger


@dataclass(frozen=True)
class JobEvent:
    job: str
    at: datetime
    outcome: str
    detail: str


@dataclass(frozen=True)
class SchedulerOverview:
    lock_holder: str | None
    lock_expires_at: datetime | None
    next_runs: dict[str, datetime]
    last_events: list[JobEvent]

    def as_json(self) -> dict[str, object]:
        return {
            "daemon": {
                "holder": self.lock_holder,
                "lease_expires_at": _iso(self.lock_expires_at),
            },
            "next_runs": {job: _iso(at) for job, at in self.next_runs.items()},
            "last_events": [
                {"job": e.job, "at": _iso(e.at), "outcome": e.outcome, "detail": e.detail}
                for e in self.last_events
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def scheduler_overview(connection: sa.Connection) -> SchedulerOverview:
    lock = connection.execute(
        sa.select(daemon_locks.c.owner, daemon_locks.c.expires_at).where(
            daemon_locks.c.name == LOCK_NAME
        )
    ).first()
    next_runs = {
        row.id: datetime.fromtimestamp(row.next_run_time, UTC)
        for row in connection.execute(
            sa.select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time).where(
                scheduler_jobs.c.next_run_time.is_not(None)
            )
        )
    }
    latest = (
        sa.select(schedule_events.c.job, sa.func.max(schedule_events.c.id).label("id"))
        .group_by(schedule_events.c.job)
        .subquery()
    )
    events = [
        JobEvent(row.job, row.at, row.outcome, row.detail)
        for row in connection.execute(
            sa.select(schedule_events)
            .join(latest, latest.c.id == schedule_events.c.id)
            .order_by(schedule_events.c.job)
        )
    ]
    return SchedulerOverview(
        lock_holder=None if lock is None else lock.owner,
        lock_expires_at=None if lock is None else lock.expires_at,
        next_runs=next_runs,
        last_events=events,
    )


def planned_runs(config: Config, at: datetime) -> dict[str, datetime]:
    """When `newsletter run` would next collect, send (and read the bounce mailbox), by
    config.yaml's schedule in site.timezone: what `status` and the desk show before the
    daemon has ever run."""
    expressions = {"collect": config.schedule.collect, "send": config.schedule.send}
    if config.bounces.mailbox is not None:
        expressions["bounces"] = config.schedule.bounces
    planned = {}
    for job, expression in expressions.items():
        fire = cron_trigger(expression, config.site.timezone).get_next_fire_time(None, at)
        if fire is not None:
            planned[job] = fire.astimezone(UTC)
    return planned
