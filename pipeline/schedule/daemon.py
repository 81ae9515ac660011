"""`newsletter run`: the scheduler daemon.

It takes the leader lock (or stands by until it can), plans the jobs from config.yaml
in APScheduler's SQLAlchemy job store, resumes an unfinished send, and renews the lock
until SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from pipeline import db
from pipeline.config import Config
from pipeline.db import scheduler_jobs
from pipeline.schedule import jobs
from pipeline.schedule.leader import LeaderLock
from pipeline.schedule.triggers import cron_trigger

log = logging.getLogger("newsletter.daemon")
JOBS_TABLE = "scheduler_jobs"
# When the daily retention job runs, in the site's time zone: at night, away from sends.
RETENTION_CRON = "40 3 * * *"


def make_scheduler(engine: sa.Engine, config: Config) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE),
            "memory": MemoryJobStore(),
        },
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=ZoneInfo(config.site.timezone),
    )


def missed_runs(engine: sa.Engine, at: datetime) -> dict[str, datetime]:
    """Jobs whose stored next run lies before `at`: they fell due while no daemon ran.

    Read from the job store's own column, before the scheduler starts and replaces them.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time).where(
                scheduler_jobs.c.next_run_time <= at.timestamp()
            )
        ).all()
    return {row.id: datetime.fromtimestamp(row.next_run_time, UTC) for row in rows}


def plan_jobs(
    scheduler: BackgroundScheduler,
    config: Config,
    config_path: Path,
    engine: sa.Engine,
    at: datetime,
) -> dict[str, str]:
    """Add the collect, send and daily retention jobs (and reading the bounce mailbox,
    when there is one) to a scheduler not yet started; returns for each job `now`,
    `scheduled` or `missed`.

    A missed collect simply runs now. A missed send runs now only within
    `schedule.send_grace_minutes`; later than that it is skipped and reported, because a
    newsletter arriving hours late (say, on Friday evening) is worse than none.
    """
    grace = timedelta(minutes=config.schedule.send_grace_minutes)
    missed = missed_runs(engine, at)
    plan = {
        "collect": "now" if "collect" in missed else "scheduled",
        "send": "scheduled",
        "retention": "now" if "retention" in missed else "scheduled",
    }
    if "send" in missed:
        plan["send"] = "now" if at - missed["send"] <= grace else "missed"
    if plan["send"] == "missed":
        report_missed_send(engine, config, missed["send"], at)
    args = [str(config_path)]
    scheduler.add_job(
        jobs.collect_job,
        cron_trigger(config.schedule.collect, config.site.timezone),
        id="collect",
        args=args,
        replace_existing=True,
        misfire_grace_time=None,
        **({"next_run_time": at} if plan["collect"] == "now" else {}),
    )
    scheduler.add_job(
        jobs.send_job,
        cron_trigger(config.schedule.send, config.site.timezone),
        id="send",
        args=args,
        replace_existing=True,
        misfire_grace_time=max(1, int(grace.total_seconds())),
        **({"next_run_time": at} if plan["send"] == "now" else {}),
    )
    scheduler.add_job(
        jobs.retention_job,
        cron_trigger(RETENTION_CRON, config.site.timezone),
        id="retention",
        args=args,
        replace_existing=True,
        misfire_grace_time=None,
        **({"next_run_time": at} if plan["retention"] == "now" else {}),
    )
    if config.bounces.mailbox is not None:
        scheduler.add_job(
            jobs.bounces_job,
            cron_trigger(config.schedule.bounces, config.site.timezone),
            id="bounces",
            args=args,
            replace_existing=True,
            misfire_grace_time=None,
        )
        plan["bounces"] = "scheduled"
    return plan


def report_missed_send(engine: sa.Engine, config: Config, due: datetime, at: datetime) -> None:
    local = due.astimezone(ZoneInfo(config.site.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    late_minutes = int((at - due).total_seconds() // 60)
    detail = (
        f"the send due {local} did not run ({late_minutes} min late, more than "
        f"schedule.send_grace_minutes={config.schedule.send_grace_minutes}); "
        "run `newsletter send` by hand if this issue should still go out"
    )
    jobs.record_event(engine, "send", "missed", detail)
    log.warning("send: skipped: %s", detail)


@dataclass
class Daemon:
    config_path: Path
    config: Config
    engine: sa.Engine
    lock: LeaderLock
    stop: threading.Event

    def run(self) -> str:
        """Run until stopped; returns a sentence on what was left."""
        if not self._wait_for_lock():
            return "stopped while standing by; nothing was running"
        log.info("daemon: holding the scheduler lock as %s", self.lock.owner)
        scheduler = make_scheduler(self.engine, self.config)
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        plan_jobs(scheduler, self.config, self.config_path, self.engine, db.now())
        scheduler.add_job(
            jobs.resume_job, id="resume", args=[str(self.config_path)], jobstore="memory"
        )
        scheduler.start()
        try:
            self._log_next_runs(scheduler)
            renew_every = max(1.0, self.config.schedule.leader_lease_s / 3)
            while not self.stop.wait(renew_every):
                if not self.lock.renew():
                    log.error("daemon: lost the scheduler lock; stopping so only one daemon acts")
                    break
        finally:
            scheduler.shutdown(wait=True)
            self.lock.release()
        return "stopped cleanly; no job was left running"

    def _wait_for_lock(self) -> bool:
        if self.lock.acquire():
            return True
        log.info("daemon: another daemon holds the scheduler lock; standing by")
        retry = max(1.0, self.config.schedule.leader_lease_s / 3)
        while not self.stop.wait(retry):
            if self.lock.acquire():
                return True
        return False

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED and event.job_id == "send":
            report_missed_send(self.engine, self.config, event.scheduled_run_time, db.now())
        elif event.code == EVENT_JOB_MISSED:
            log.warning("%s: a run due %s was missed", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("%s: failed: %s", event.job_id, event.exception)
            jobs.record_event(self.engine, event.job_id, "failed", str(event.exception))

    @staticmethod
    def _log_next_runs(scheduler: BackgroundScheduler) -> None:
        for job in scheduler.get_jobs():
            if job.next_run_time is not None and job.id != "resume":
                log.info("daemon: next %s at %s", job.id, job.next_run_time.isoformat())
