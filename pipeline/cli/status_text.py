"""`status` for people: plain lines within 80 columns, times in site.timezone with the
zone, counts in the words of ../shared/DESIGN.md's glossary. (`--json` is the machine's.)"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.render.dates import numeric_moment
from pipeline.report.issue_report import Headline
from pipeline.schedule.overview import SchedulerOverview

WIDTH = 80
NAME_WIDTH = 28
NO_BREAK = "\u00a0"


class Clock:
    """Times as a person reads them here: `07.12.2026, 16:30 CET`."""

    def __init__(self, locale: str, timezone: str):
        self.locale, self.timezone = locale, timezone

    def __call__(self, moment: datetime | str | None, never: str = "never") -> str:
        if moment is None:
            return never
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        zone = moment.astimezone(ZoneInfo(self.timezone)).tzname()
        return f"{numeric_moment(moment, self.locale, self.timezone)} {zone}"


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def source_lines(rows: list[dict[str, Any]], clock: Clock) -> list[str]:
    if not rows:
        return ["Sources: none configured (sources.feeds, sources.pages)."]
    lines = [f"Sources ({len(rows)}):"]
    for row in rows:
        if row["state"] == "never collected":
            lines.append(f"  {_short(row['name']):<{NAME_WIDTH}}  never collected")
            continue
        found = row.get("items_found", 0)
        last = clock(row.get("last_success_at"))
        lines.append(f"  {_short(row['name']):<{NAME_WIDTH}}  {row['state']:<8} {found:>4} items")
        lines += _wrapped(f"last success {last}", "    ")
        if row.get("last_error"):
            failures = row.get("consecutive_failures", 0)
            lines += _wrapped(f"error ({failures} in a row): {row['last_error']}", "    ")
    return lines


def queue_line(counts: dict[str, int]) -> list[str]:
    parts = ", ".join(f"{count} {state}" for state, count in counts.items())
    return _wrapped(f"Queue: {parts}.", "")


def subscriber_line(counts: dict[str, int]) -> list[str]:
    parts = ", ".join(f"{count} {state}" for state, count in counts.items())
    return _wrapped(f"Subscribers: {parts}.", "")


def issue_lines(records: Iterable[Headline], clock: Clock) -> list[str]:
    records = list(records)
    if not records:
        return ["Last issues: none sent yet."]
    lines = ["Last issues:"]
    for record in records:
        d = record.deliveries
        when = clock(record.finished_at or record.created_at)
        done = "sent" if record.state == "sent" else "sending since"
        lines += _wrapped(f"Issue {record.number}, {done} {when}: {record.subject}", "  ")
        rate = record.per_second
        figures = [
            f"{d.recipients} recipients",
            f"{d.sent} sent",
            f"{d.delivered} delivered",
            f"{d.pending} pending" if d.pending else "",
            f"{d.skipped} skipped",
            f"{d.failed} failed",
            f"{d.unsettled} unsettled" if d.unsettled else "",
            f"{d.bounced} bounced",
            f"{d.blocked} blocked",
            f"{d.complaints} complaints",
            f"{d.unsubscribed} unsubscribed",
            f"{record.clicks.clicks} clicks ({record.clicks.machine_clicks} by machines)",
            "" if rate is None else f"{rate:,.0f} recipients/s",
        ]
        # Each figure stays on one line: its number beside its word.
        shown = ", ".join(figure.replace(" ", NO_BREAK) for figure in figures if figure)
        lines += [line.replace(NO_BREAK, " ") for line in _wrapped(shown + ".", "    ")]
    unfinished = [r.number for r in records if r.state == "sending"]
    if unfinished:
        lines += _wrapped(
            f"Issue {unfinished[0]} has not finished sending: `newsletter send --resume` "
            "finishes it (the daemon does so when it starts).",
            "",
        )
    return lines


def schedule_lines(
    overview: SchedulerOverview,
    planned: dict[str, datetime],
    workers: list[dict[str, Any]],
    clock: Clock,
) -> list[str]:
    """The daemon's own plan when it runs; the config's (`planned`) before it ever has."""
    lines = [f"Scheduler: {overview.lock_holder or 'no daemon is running'}"]
    if overview.next_runs:
        lines += [f"  next {job}: {clock(at)}" for job, at in sorted(overview.next_runs.items())]
    else:
        lines.append("  by config.yaml's schedule, once `newsletter run` runs:")
        lines += [f"    next {job}: {clock(at)}" for job, at in sorted(planned.items())]
    for event in overview.last_events:
        lines += _wrapped(f"last {event.job} ({clock(event.at)}): {event.outcome}: {event.detail}")
    for worker in workers:
        lines.append(f"Worker {worker['worker']}: {worker['rows_in_flight']} rows in flight")
    return lines


def bounce_lines(section: dict[str, Any] | None, clock: Clock) -> list[str]:
    if section is None:
        return []
    counts = ", ".join(f"{n} {kind}" for kind, n in section["counts"].items()) or "none yet"
    lines = _wrapped(
        f"Bounce mailbox {section['mailbox']}: {section['state']}, last read "
        f"{clock(section['last_read_at'])}",
        "",
    )
    lines += _wrapped(f"messages: {counts}; {section['unrecognised']} unrecognised")
    if section["state"] == "failing":
        lines += _wrapped(
            f"last error ({clock(section['last_error_at'])}): {section['last_error']}"
        )
    return lines
