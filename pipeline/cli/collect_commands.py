"""`newsletter collect`: every source into the item queue."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli.common import ConfigOption, open_store

if TYPE_CHECKING:
    from pipeline.collect import SourceReport

NAME_WIDTH = 26
"""With five counts of 8 and the longest result (`not modified`): 26 + 40 + 2 + 12 = 80."""
COLUMNS = ("new", "updated", "same", "dupl.", "removed")
"""Counted items per source: new, updated, unchanged, duplicates, removed."""


def collect(
    config: ConfigOption = None,
    retry_gone: Annotated[
        bool,
        typer.Option(
            "--retry-gone",
            help="Fetch feeds and pages a 410 Gone disabled once more (still gone: disabled "
            "again).",
        ),
    ] = False,
) -> None:
    """Read the content folder, the feeds and the web pages into the item queue.

    Exits 1 when any source failed, after storing everything that was good.
    """
    from pipeline.collect import collect as run_collect

    settings, engine = open_store(config)
    report = run_collect(settings, engine, retry_gone=retry_gone)
    for line in report_lines(report.sources):
        typer.echo(line)
    if report.expired:
        typer.echo(f"{report.expired} item(s) expired (past their date, or their event began).")
    for source in report.sources:
        for warning in source.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for error in source.errors:
            typer.echo(f"error: {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


def report_lines(sources: list[SourceReport]) -> list[str]:
    """A table whose rows fit 80 columns (names shortened, the result in a word or two),
    then each shortened name whole and each source's note, wrapped at 80 too.

    Plain text, not a rich table: a collect of 500 sources spent 0.3 s laying one out.
    Errors follow on stderr, each on its own line with the source's name and URL.
    """
    header = f"{'source':<{NAME_WIDTH}}" + "".join(f"{c:>8}" for c in COLUMNS) + "  result"
    lines = [header]
    below: list[str] = []
    for source in sources:
        c = source.counts
        name = _shortened(source.name)
        counts = (c.new, c.updated, c.unchanged, c.duplicates, c.removed)
        lines.append(
            f"{name:<{NAME_WIDTH}}" + "".join(f"{n:>8}" for n in counts) + f"  {source.result}"
        )
        if name != source.name:
            below.append(f"{name}: {source.name}")
        if source.note and source.result != "not modified":  # the row says it all
            below.append(f"{source.name}: {source.note}")
    wrapped = [part for line in below for part in textwrap.wrap(line, 80, subsequent_indent="  ")]
    return lines + (["", *wrapped] if wrapped else [])


def _shortened(name: str) -> str:
    return name if len(name) <= NAME_WIDTH - 1 else name[: NAME_WIDTH - 2] + "…"
