"""`newsletter status`: one look at the pipeline's health.

One function per section, each returning plain data for `--json` and a renderer for the
terminal, so more sections (issues, workers, schedule) slot in the same way.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import typer

from pipeline.bounces.mailbox import mailbox_name
from pipeline.bounces.records import mailbox_health
from pipeline.cli.common import ConfigOption, JsonOption, open_store, output_locale
from pipeline.cli.status_text import (
    Clock,
    bounce_lines,
    issue_lines,
    queue_line,
    schedule_lines,
    source_lines,
    subscriber_line,
)
from pipeline.collect.health import feed_health
from pipeline.config import Calendar, Config, Feed, Page
from pipeline.db import now
from pipeline.queue.listing import count_by_state
from pipeline.report.issue_report import Headline, headlines
from pipeline.schedule.overview import planned_runs, scheduler_overview
from pipeline.send.ledger import active_claims
from subscribers.store import count_by_state as count_subscribers


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def sources_section(config: Config, connection: sa.Connection) -> list[dict[str, Any]]:
    """Every configured feed, calendar and page with its health; one never collected shows
    as such."""
    configured: list[Feed | Calendar | Page] = [
        *config.sources.feeds,
        *config.sources.calendars,
        *config.sources.pages,
    ]
    health = {h.url: h for h in feed_health(connection, [str(f.url) for f in configured])}
    rows: list[dict[str, Any]] = []
    for feed in configured:
        h = health.get(str(feed.url))
        if h is None:
            rows.append({"name": feed.name, "url": str(feed.url), "state": "never collected"})
            continue
        if h.gone_at is not None:
            state = "disabled (410 Gone)"
        elif h.consecutive_failures:
            state = "failing"
        else:
            state = "ok"
        rows.append(
            {
                "name": feed.name,
                "url": h.url,
                "state": state,
                "last_checked_at": _iso(h.last_checked_at),
                "last_success_at": _iso(h.last_success_at),
                "last_error": h.last_error,
                "last_error_at": _iso(h.last_error_at),
                "consecutive_failures": h.consecutive_failures,
                "items_found": h.items_found,
                "retry_after": _iso(h.retry_after),
            }
        )
    return rows


def queue_section(connection: sa.Connection) -> dict[str, int]:
    """How many items are in each state."""
    return count_by_state(connection)


def workers_section(connection: sa.Connection) -> list[dict[str, Any]]:
    """Processes holding claimed rows right now, and until when."""
    return [
        {"worker": owner, "rows_in_flight": count, "lease_expires_at": _iso(until)}
        for owner, count, until in active_claims(connection)
    ]


def bounces_section(config: Config, connection: sa.Connection) -> dict[str, Any] | None:
    """The bounce mailbox's health, when there is one: last read, counts, last error."""
    if config.bounces.mailbox is None:
        return None
    return mailbox_health(connection, mailbox_name(config.bounces.mailbox)).as_json()


def issues_section(connection: sa.Connection) -> list[Headline]:
    """The last issues with the same figures as `newsletter report` gives for each."""
    return headlines(connection)


def issue_json(headline: Headline) -> dict[str, Any]:
    d = headline.deliveries
    return {
        "number": headline.number,
        "subject": headline.subject,
        "state": headline.state,
        "created_at": headline.created_at.isoformat(),
        "finished_at": _iso(headline.finished_at),
        "deliveries": d.by_state,
        **d.as_json(),
        **headline.clicks.as_json(),
        "per_second": headline.per_second,
    }


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Sources' health, the queue, the last issues, the schedule, the workers and the
    bounce mailbox."""
    settings, engine = open_store(config)
    with engine.connect() as connection:
        sources = sources_section(settings, connection)
        queue = queue_section(connection)
        issues = issues_section(connection)
        schedule = scheduler_overview(connection)
        workers = workers_section(connection)
        bounces = bounces_section(settings, connection)
        readers = count_subscribers(connection)
    if as_json:
        report = {
            "sources": sources,
            "queue": queue,
            "subscribers": readers,
            "issues": [issue_json(record) for record in issues],
            "schedule": schedule.as_json(),
            "workers": workers,
            "bounces": bounces,
        }
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    clock = Clock(output_locale(settings), settings.site.timezone)
    lines = [
        *source_lines(sources, clock),
        *queue_line(queue),
        *subscriber_line(readers),
        *issue_lines(issues, clock),
        *schedule_lines(schedule, planned_runs(settings, now()), workers, clock),
        *bounce_lines(bounces, clock),
    ]
    for line in lines:
        typer.echo(line)
