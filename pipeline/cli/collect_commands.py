"""`newsletter collect`: every source into the item queue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.common import ConfigOption, open_store, out


def collect(
    config: ConfigOption = None,
    retry_gone: Annotated[
        bool,
        typer.Option(
            "--retry-gone",
            help="Fetch feeds a 410 Gone disabled once more (still gone: disabled again).",
        ),
    ] = False,
) -> None:
    """Read the content folder and the feeds into the item queue.

    Exits 1 when any source failed, after storing everything that was good.
    """
    from pipeline.collect import collect as run_collect

    settings, engine = open_store(config)
    report = run_collect(settings, engine, retry_gone=retry_gone)
    table = Table("source", "new", "updated", "unchanged", "duplicates", "removed", "result")
    for source in report.sources:
        c = source.counts
        if source.errors:
            result = f"[red]failed[/red]: {'; '.join(_reason(e) for e in source.errors)}"
        else:
            result = source.note or "ok"
        table.add_row(
            source.name,
            str(c.new),
            str(c.updated),
            str(c.unchanged),
            str(c.duplicates),
            str(c.removed),
            result,
        )
    out.print(table)
    if report.expired:
        out.print(f"{report.expired} item(s) expired (past their date, or their event began).")
    for source in report.sources:
        for warning in source.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for error in source.errors:
            typer.echo(f"error: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


def _reason(error: Exception) -> str:
    text = str(error)
    return text.split("): ", 1)[1] if "): " in text else text
