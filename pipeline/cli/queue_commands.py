"""`newsletter queue ...`: the editors' queue."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import ConfigOption, JsonOption, open_store, out, read_config
from pipeline.db import now
from pipeline.errors import ConfigError
from pipeline.queue.actions import Action, apply_action, find_item_id
from pipeline.queue.listing import list_items, show_item
from pipeline.queue.series import fold_series
from pipeline.render.dates import listed_when, numeric_moment

queue_app = typer.Typer(help="The editors' item queue.", no_args_is_help=True)
ItemRefs = Annotated[list[str], typer.Argument(help="Item numbers (from `queue list`) or keys.")]


@queue_app.command("list")
def queue_list(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    every_state: Annotated[
        bool, typer.Option("--all", help="Include sent, dropped and expired items.")
    ] = False,
) -> None:
    """The items waiting for the next issue (with --all: every item in every state).

    A calendar's series is one line: its next date, and how many dates it has in that
    state; --json lists every occurrence.
    """
    settings, engine = open_store(config)
    with engine.connect() as connection:
        rows = list_items(connection, every_state=every_state)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    locale, timezone = settings.site.locale, settings.site.timezone
    listed = [
        (
            str(row["id"]),
            row["state"],
            row["kind"],
            listed_when(
                datetime.fromisoformat(row["published_at"]),
                _moment(row["event_start"]),
                locale,
                timezone,
                all_day=row["event_all_day"],
            )
            # A series: its next date (in the date column, which is never cut) and the rest.
            + (f" +{row['series_count'] - 1} more" if row["series_count"] > 1 else ""),
            row["title"]
            + (f" (duplicate of #{row['duplicate_of']})" if row["duplicate_of"] else ""),
            row["source"],
        )
        for row in fold_series(rows)  # --json lists every occurrence
    ]
    for line in listing_lines(listed, shutil.get_terminal_size().columns):
        typer.echo(line)


LISTING_HEADINGS = ("#", "state", "kind", "date", "title", "source")
SOURCE_WIDTH = 18
"""The source column's width, shown when the terminal has room for it and a title of 40."""


def listing_lines(rows: Sequence[tuple[str, ...]], width: int) -> list[str]:
    """One line an item, within `width` columns: a title too long ends in "…" (`queue
    show` has it whole); the source column only where the terminal is wide enough."""
    width = max(width, 60)
    fixed = [
        max(len(heading), *(len(row[column]) for row in rows)) if rows else len(heading)
        for column, heading in enumerate(LISTING_HEADINGS[:4])
    ]
    used = sum(fixed) + 2 * len(fixed)
    with_source = width - used >= 40 + 2 + SOURCE_WIDTH
    title_width = width - used - (2 + SOURCE_WIDTH if with_source else 0)

    def line(cells: tuple[str, ...]) -> str:
        parts = [cell.ljust(size) for cell, size in zip(cells[:4], fixed, strict=True)]
        parts.append(_cut(cells[4], title_width).ljust(title_width if with_source else 0))
        if with_source:
            parts.append(_cut(cells[5], SOURCE_WIDTH))
        return "  ".join(parts).rstrip()

    return [line(LISTING_HEADINGS), *(line(row) for row in rows)]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@queue_app.command("show")
def queue_show(
    item: Annotated[str, typer.Argument(help="Item number or key.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything stored about one item."""
    settings, engine = open_store(config)
    with engine.connect() as connection:
        details = show_item(connection, find_item_id(connection, item))
    if as_json:
        typer.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    table = Table("field", "value", show_header=False)
    for name, value in details.items():
        if value in (None, [], ""):
            continue
        if name in MOMENTS:
            value = numeric_moment(
                datetime.fromisoformat(value), settings.site.locale, settings.site.timezone
            )
        table.add_row(name, ", ".join(value) if isinstance(value, list) else str(value))
    out.print(table)


MOMENTS = frozenset(
    {
        "published_at",
        "event_start",
        "event_end",
        "publish_after",
        "expires",
        "created_at",
        "updated_at",
    }
)
"""The fields `queue show` writes in the site's time zone (`--json` keeps them in UTC)."""


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _act(action: Action, refs: list[str], config: Path | None) -> None:
    _settings, engine = open_store(config)
    for line in apply_action(engine, refs, action, now()):
        typer.echo(line)


@queue_app.command("hold")
def queue_hold(refs: ItemRefs, config: ConfigOption = None) -> None:
    """Keep items out of issues until released."""
    _act("hold", refs, config)


@queue_app.command("release")
def queue_release(refs: ItemRefs, config: ConfigOption = None) -> None:
    """Put held items back in the queue."""
    _act("release", refs, config)


@queue_app.command("drop")
def queue_drop(refs: ItemRefs, config: ConfigOption = None) -> None:
    """Take items out of the queue (`queue restore` brings them back)."""
    _act("drop", refs, config)


@queue_app.command("restore")
def queue_restore(refs: ItemRefs, config: ConfigOption = None) -> None:
    """Bring back items an editor dropped, in the state they were dropped from."""
    _act("restore", refs, config)


@queue_app.command("approve")
def queue_approve(refs: ItemRefs, config: ConfigOption = None) -> None:
    """Approve items (with issue.require_approval only approved items are sent)."""
    _act("approve", refs, config)


@queue_app.command("add")
def queue_add(
    title: Annotated[str, typer.Option(help="The headline (plain text).")],
    summary: Annotated[str, typer.Option(help="The teaser shown in the issue (plain text).")],
    kind: Annotated[str, typer.Option(help="intro, report, partner, event or news.")] = "news",
    link: Annotated[str | None, typer.Option(help="Where the full story is.")] = None,
    day: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Default: today.")
    ] = None,
    topic: Annotated[list[str] | None, typer.Option(help="A topic key; repeatable.")] = None,
    event_start: Annotated[
        datetime | None, typer.Option(help="For events: when it starts (local time).")
    ] = None,
    event_end: Annotated[
        datetime | None, typer.Option(help="For events: when it ends (local time).")
    ] = None,
    location: Annotated[str | None, typer.Option(help="For events: where.")] = None,
    online_url: Annotated[str | None, typer.Option(help="For events: the online link.")] = None,
    image: Annotated[
        str | None,
        typer.Option(help="A picture: https://... or media/NAME.jpg of the content folder."),
    ] = None,
    image_alt: Annotated[
        str | None, typer.Option(help="What the picture shows (required with --image).")
    ] = None,
    body: Annotated[
        Path | None, typer.Option(help="A Markdown file whose text becomes the item's body.")
    ] = None,
    publish_after: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="In no issue before this day."),
    ] = None,
    expires: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="In no issue from this day.")
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Write it as a draft.")] = False,
    config: ConfigOption = None,
) -> None:
    """Write a new item file into the content folder and queue it (every field the front
    matter takes, docs/editors.md)."""
    from pipeline.collect import collect_folder
    from pipeline.collect.new_item import write_item_file

    settings, engine = open_store(config)
    front_matter: dict[str, Any] = {
        "title": title,
        "kind": kind,
        "date": day.date() if day else date.today(),
        "summary": summary,
        "link": link,
        "image": image,
        "image_alt": image_alt,
        "topics": topic or [],
        "status": "draft" if draft else None,
        "publish_after": publish_after.date() if publish_after else None,
        "expires": expires.date() if expires else None,
    }
    if event_start or event_end or location or online_url:
        front_matter["event"] = {
            k: v
            for k, v in {
                "start": event_start,
                "end": event_end,
                "location": location,
                "online_url": online_url,
            }.items()
            if v is not None
        }
    try:
        text = "" if body is None else body.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--body {body}: cannot read it as UTF-8 text ({exc})") from exc
    path = write_item_file(
        settings.sources.content_dir,
        front_matter,
        text,
        timezone=settings.site.timezone,
        topic_keys={t.key for t in settings.topics},
    )
    collect_folder(settings, engine)
    with engine.connect() as connection:
        key = f"folder:{path.relative_to(settings.sources.content_dir).as_posix()}"
        item_id = find_item_id(connection, key)
    typer.echo(f"Wrote {path} and queued it as item {item_id}.")


@queue_app.command("check")
def queue_check(config: ConfigOption = None) -> None:
    """Validate the content folder without touching the store (for a pre-commit hook)."""
    from pipeline.collect.folder import read_folder

    settings = read_config(config)
    result = read_folder(
        settings.sources.content_dir,
        timezone=settings.site.timezone,
        topic_keys=[t.key for t in settings.topics],
    )
    for error in result.errors:
        typer.echo(f"error: {error}", err=True)
    files_with_errors = len({error.path for error in result.errors})
    problems = f", {files_with_errors} with errors" if result.errors else ""
    typer.echo(f"{settings.sources.content_dir}: {len(result.items)} valid item file(s){problems}.")
    if result.errors:
        raise typer.Exit(1)
