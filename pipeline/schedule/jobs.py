"""The daemon's jobs. APScheduler stores them by reference with the config path as their
only argument, so each run reads the current config and opens its own connections."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import sqlalchemy as sa

from pipeline import db
from pipeline.bounces.fetch import default_classifier, fetch_bounces
from pipeline.collect import collect
from pipeline.config import Config, load_config
from pipeline.db import schedule_events
from pipeline.environment import signing_keys
from pipeline.errors import ConfigError, MailboxError
from pipeline.issue.build import NothingToSend, build_issue, unfinished_issue
from pipeline.partner_mail import tell_partners
from pipeline.report.retention import apply_retention
from pipeline.schedule.triggers import issue_after_next
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider

log = logging.getLogger("newsletter.schedule")

# Set by `newsletter --dev run`: the jobs may sign with the development key.
DEVELOPMENT_SITE = threading.Event()
# Set when the daemon is asked to stop: a send in progress ends after its calls in flight,
# leaving the rest pending for the next start (which resumes it).
SHUTTING_DOWN = threading.Event()


def record_event(engine: sa.Engine, job: str, outcome: str, detail: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.insert(schedule_events).values(at=db.now(), job=job, outcome=outcome, detail=detail)
        )


def _open(config_path: str) -> tuple[Config, sa.Engine]:
    config = load_config(Path(config_path))
    engine = db.make_engine(config.database.url)
    db.require_current_schema(engine)
    return config, engine


def collect_job(config_path: str) -> None:
    config, engine = _open(config_path)
    report = collect(config, engine)
    for source in report.sources:
        for error in source.errors:
            log.warning("collect: %s", error)
    new = sum(source.counts.new for source in report.sources)
    updated = sum(source.counts.updated for source in report.sources)
    outcome = "failed" if report.failed else "ok"
    record_event(engine, "collect", outcome, f"{new} new, {updated} updated")
    log.info("collect: %s new, %s updated, %s", new, updated, outcome)


def resume_job(config_path: str) -> None:
    """On start-up: finish an issue that a crash or a stop left unfinished."""
    config, engine = _open(config_path)
    with engine.connect() as connection:
        unfinished = unfinished_issue(connection)
    if unfinished is None:
        return
    issue_id, number = unfinished
    log.info("resume: issue %s was left unfinished; finishing it", number)
    _deliver(config, engine, issue_id, number, job="resume", resume=True)


def send_job(config_path: str) -> None:
    """Build the next issue and deliver it; skip (and say why) when there is nothing to send."""
    config, engine = _open(config_path)
    with engine.connect() as connection:
        unfinished = unfinished_issue(connection)
    if unfinished is not None:
        detail = f"issue {unfinished[1]} has not finished sending; it is resumed first"
        log.warning("send: %s", detail)
        resume_job(config_path)
    try:
        at = db.now()
        until = issue_after_next(config.schedule.send, config.site.timezone, at)
        built = build_issue(engine, config, at, events_until=until)
    except NothingToSend as exc:
        record_event(engine, "send", "skipped", str(exc))
        log.info("send: skipped: %s", exc)
        return
    log.info(
        "send: issue %s built: %s items, %s recipients",
        built.number,
        built.item_count,
        built.recipients,
    )
    _deliver(config, engine, built.id, built.number, job="send")


def _deliver(
    config: Config, engine: sa.Engine, issue_id: int, number: int, *, job: str, resume: bool = False
) -> None:
    summary = deliver(
        engine,
        config,
        issue_id,
        make_provider(config),
        signing_keys(development=DEVELOPMENT_SITE.is_set()),
        resume=resume,
        stop=SHUTTING_DOWN,
    )
    detail = f"issue {number}: {summary.sent} sent, {summary.failed} failed"
    if summary.unsettled:
        detail += f", {summary.unsettled} unsettled after a crash"
    record_event(engine, job, "sent", detail)
    log.info("%s: %s", job, detail)
    tell_partners(config, engine, issue_id, db.now())


def bounces_job(config_path: str) -> None:
    """Read the bounce mailbox. A mailbox that cannot be reached is a failed run with its
    reason (for `status`), never an error that touches the other jobs."""
    config, engine = _open(config_path)
    if config.bounces.mailbox is None:  # a job stored while it was set; it is unset now
        return
    try:
        keys = signing_keys(development=DEVELOPMENT_SITE.is_set())
        report = fetch_bounces(config, engine, keys, default_classifier())
    except (MailboxError, ConfigError) as exc:
        record_event(engine, "bounces", "failed", str(exc))
        log.error("bounces: %s", exc)
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items())) or "nothing new"
    detail = f"{kinds}; {report.unrecognised} unrecognised"
    record_event(engine, "bounces", "ok", detail)
    log.info("bounces: %s", detail)


def retention_job(config_path: str) -> None:
    """Once a day: clicks and opens older than `analytics.retention_days` stop naming
    their reader (docs/operations.md, "Reach: what is counted, and what is kept")."""
    config, engine = _open(config_path)
    with engine.begin() as connection:
        anonymised = apply_retention(connection, config.analytics.retention_days, db.now())
    record_event(engine, "retention", "ok", str(anonymised))
    log.info("retention: %s", anonymised)
