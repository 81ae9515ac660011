"""`newsletter subscribers ...`: the subscriber store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import ConfigOption, JsonOption, open_store, out
from subscribers import import_csv
from subscribers.store import iter_all

subscribers_app = typer.Typer(help="The subscriber store.", no_args_is_help=True)


@subscribers_app.command("import")
def subscribers_import(
    csv_path: Annotated[Path, typer.Argument(help="CSV with an `email` column.")],
    config: ConfigOption = None,
    apply: Annotated[bool, typer.Option("--apply", help="Write; without it, only check.")] = False,
    consent_given_by: Annotated[
        str | None, typer.Option(help="Who vouches for the consent of rows without `consent_at`.")
    ] = None,
) -> None:
    """Import subscribers from CSV: a dry run unless --apply."""
    settings, engine = open_store(config)
    report = import_csv(
        engine,
        csv_path,
        topic_keys=[topic.key for topic in settings.topics],
        consent_given_by=consent_given_by,
        apply=apply,
    )
    for problem in report.problems:
        typer.echo(f"{csv_path}: {problem}", err=True)
    verb = "Imported" if report.applied else "Would import (dry run; --apply to write)"
    out.print(
        f"{verb} {len(report.added)} new subscriber(s) from {csv_path}; "
        f"{len(report.known)} already known, {len(report.problems)} row(s) refused."
    )
    if report.problems:
        raise typer.Exit(1)


@subscribers_app.command("list")
def subscribers_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List subscribers with their state."""
    _settings, engine = open_store(config)
    with engine.connect() as connection:
        everyone = list(iter_all(connection))
    if as_json:
        rows = [
            {
                "email": s.email,
                "name": s.name,
                "locale": s.locale,
                "topics": list(s.topics),
                "state": s.state,
            }
            for s in everyone
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("email", "name", "locale", "topics", "state")
    for s in everyone:
        table.add_row(s.email, s.name, s.locale, ", ".join(s.topics), s.state)
    out.print(table)
