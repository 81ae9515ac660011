"""`newsletter collect`: every source into the item queue."""

from __future__ import annotations

import typer
from rich.table import Table

from pipeline.cli.common import ConfigOption, open_store, out
from pipeline.collect import collect as run_collect


def collect(config: ConfigOption = None) -> None:
    """Read the content folder (and feeds) into the item queue."""
    settings, engine = open_store(config)
    report = run_collect(settings, engine)
    table = Table("source", "new", "updated", "unchanged", "removed", "failed")
    for source in report.sources:
        c = source.counts
        table.add_row(
            source.name,
            str(c.new),
            str(c.updated),
            str(c.unchanged),
            str(c.removed),
            str(len(source.errors)),
        )
    out.print(table)
    for source in report.sources:
        for error in source.errors:
            typer.echo(f"error: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)
