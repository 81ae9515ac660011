"""`newsletter queue ...`: the editors' queue."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import ConfigOption, JsonOption, open_store, out, read_config
from pipeline.db import now
from pipeline.queue.actions import Action, apply_action, find_item_id
from pipeline.queue.listing import list_items, show_item

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
    """The items waiting for the next issue (with --all: every item in every state)."""
    _settings, engine = open_store(config)
    with engine.connect() as connection:
        rows = list_items(connection, every_state=every_state)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("#", "state", "kind", "date", "title", "source")
    for row in rows:
        title = row["title"]
        if row["duplicate_of"]:
            title += f" [dim](duplicate of #{row['duplicate_of']})[/dim]"
        table.add_row(
            str(row["id"]),
            row["state"],
            row["kind"],
            row["published_at"][:10],
            title,
            row["source"],
        )
    out.print(table)


@queue_app.command("show")
def queue_show(
    item: Annotated[str, typer.Argument(help="Item number or key.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everything stored about one item."""
    _settings, engine = open_store(config)
    with engine.connect() as connection:
        details = show_item(connection, find_item_id(connection, item))
    if as_json:
        typer.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    table = Table("field", "value", show_header=False)
    for name, value in details.items():
        if value not in (None, [], ""):
            table.add_row(name, ", ".join(value) if isinstance(value, list) else str(value))
    out.print(table)


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
    location: Annotated[str | None, typer.Option(help="For events: where.")] = None,
    online_url: Annotated[str | None, typer.Option(help="For events: the online link.")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Write it as a draft.")] = False,
    config: ConfigOption = None,
) -> None:
    """Write a new item file into the content folder and queue it."""
    from pipeline.collect import collect_folder
    from pipeline.collect.new_item import write_item_file

    settings, engine = open_store(config)
    front_matter: dict[str, Any] = {
        "title": title,
        "kind": kind,
        "date": day.date() if day else date.today(),
        "summary": summary,
        "link": link,
        "topics": topic or [],
        "status": "draft" if draft else None,
    }
    if event_start or location or online_url:
        front_matter["event"] = {
            k: v
            for k, v in {
                "start": event_start,
                "location": location,
                "online_url": online_url,
            }.items()
            if v is not None
        }
    path = write_item_file(
        settings.sources.content_dir,
        front_matter,
        "",
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
