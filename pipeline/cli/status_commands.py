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
from rich.table import Table

from pipeline.bounces.mailbox import mailbox_name
from pipeline.bounces.records import mailbox_health
from pipeline.cli.common import ConfigOption, JsonOption, open_store, out
from pipeline.collect.health import feed_health
from pipeline.config import Calendar, Config, Feed
from pipeline.issue.history import IssueRecord, last_issues
from pipeline.queue.listing import count_by_state
from pipeline.schedule.overview import SchedulerOverview, scheduler_overview
from pipeline.send.ledger import active_claims


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def sources_section(config: Config, connection: sa.Connection) -> list[dict[str, Any]]:
    """Every configured feed and calendar with its health; one never collected shows as such."""
    fetched: list[Feed | Calendar] = [*config.sources.feeds, *config.sources.calendars]
    health = {h.url: h for h in feed_health(connection, [str(f.url) for f in fetched])}
    rows: list[dict[str, Any]] = []
    for feed in fetched:
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


def _print_bounces(section: dict[str, Any] | None) -> None:
    if section is None:
        return
    last = (section["last_read_at"] or "never")[:16].replace("T", " ")
    counts = ", ".join(f"{n} {kind}" for kind, n in section["counts"].items()) or "none yet"
    out.print(f"Bounce mailbox {section['mailbox']}: {section['state']}, last read {last}")
    out.print(f"  messages: {counts}; {section['unrecognised']} unrecognised", highlight=False)
    if section["state"] == "failing":
        when = section["last_error_at"][:16].replace("T", " ")
        out.print(f"  last error ({when}): {section['last_error']}", highlight=False)


def _print_sources(rows: list[dict[str, Any]]) -> None:
    table = Table(
        "feed", "state", "last success", "failures", "items", "last error", title="Sources"
    )
    for row in rows:
        table.add_row(
            row["name"],
            row["state"],
            (row.get("last_success_at") or "never")[:16].replace("T", " "),
            str(row.get("consecutive_failures", 0)),
            str(row.get("items_found", 0)),
            row.get("last_error") or "",
        )
    out.print(table if rows else "Sources: no feeds configured.")


def _print_queue(counts: dict[str, int]) -> None:
    table = Table("state", "items", title="Queue")
    for state, count in counts.items():
        table.add_row(state, str(count))
    out.print(table)


def _print_issues(records: list[IssueRecord]) -> None:
    table = Table(
        "issue",
        "state",
        "sent",
        "pending",
        "failed",
        "bounced",
        "blocked",
        "complaints",
        "unsettled",
        "per s",
        title="Last issues",
    )
    for record in records:
        d = record.deliveries
        rate = record.per_second
        table.add_row(
            str(record.number),
            record.state,
            str(d.get("sent", 0)),
            str(d.get("pending", 0) + d.get("sending", 0)),
            str(d.get("failed", 0)),
            str(record.bounced),
            str(record.blocked),
            str(record.complaints),
            str(d.get("unsettled", 0)),
            "" if rate is None else f"{rate:,.0f}",
        )
    out.print(table if records else "Last issues: none sent yet.")
    unfinished = [r.number for r in records if r.state == "sending"]
    if unfinished:
        out.print(
            f"Issue {unfinished[0]} has not finished sending: `newsletter send --resume` "
            "finishes it (the daemon does so when it starts)."
        )


def _print_schedule(overview: SchedulerOverview, workers: list[dict[str, Any]]) -> None:
    holder = overview.lock_holder or "no daemon is running"
    out.print(f"Scheduler: {holder}")
    for job, at in sorted(overview.next_runs.items()):
        out.print(f"  next {job}: {at.isoformat(timespec='minutes')}")
    for event in overview.last_events:
        when = event.at.isoformat(timespec="minutes")
        out.print(f"  last {event.job} ({when}): {event.outcome}: {event.detail}")
    for worker in workers:
        out.print(f"Worker {worker['worker']}: {worker['rows_in_flight']} rows in flight")


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Sources' health, the queue, the last issues, the schedule, the workers and the
    bounce mailbox."""
    settings, engine = open_store(config)
    with engine.connect() as connection:
        sources = sources_section(settings, connection)
        queue = queue_section(connection)
        issues = last_issues(connection)
        schedule = scheduler_overview(connection)
        workers = workers_section(connection)
        bounces = bounces_section(settings, connection)
    if as_json:
        report = {
            "sources": sources,
            "queue": queue,
            "issues": [record.as_json() for record in issues],
            "schedule": schedule.as_json(),
            "workers": workers,
            "bounces": bounces,
        }
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_sources(sources)
    _print_queue(queue)
    _print_issues(issues)
    _print_schedule(schedule, workers)
    _print_bounces(bounces)
