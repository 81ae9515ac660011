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

from pipeline.cli.common import ConfigOption, JsonOption, open_store, out
from pipeline.collect.health import feed_health
from pipeline.config import Config
from pipeline.queue.listing import count_by_state


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def sources_section(config: Config, connection: sa.Connection) -> list[dict[str, Any]]:
    """Every configured feed with its health; a feed never collected shows as such."""
    health = {h.url: h for h in feed_health(connection, [str(f.url) for f in config.sources.feeds])}
    rows: list[dict[str, Any]] = []
    for feed in config.sources.feeds:
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


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Sources' health and the queue by state."""
    settings, engine = open_store(config)
    with engine.connect() as connection:
        sources = sources_section(settings, connection)
        queue = queue_section(connection)
    if as_json:
        typer.echo(json.dumps({"sources": sources, "queue": queue}, ensure_ascii=False, indent=2))
        return
    _print_sources(sources)
    _print_queue(queue)
