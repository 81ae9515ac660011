"""The `newsletter` command: parses, calls one function, prints what it did."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline import db
from pipeline.collect import collect as run_collect
from pipeline.config import Config, config_path_from_env, load_config
from pipeline.environment import secret_key
from pipeline.errors import ConfigError, NewsletterError, SendRefused
from pipeline.issue.build import (
    NothingToSend,
    build_issue,
    next_issue_content,
    render_variants,
    unfinished_issue,
)
from pipeline.render.preview import write_preview
from pipeline.send import ledger
from pipeline.send.dispatcher import DeliverySummary, deliver, settle_interrupted
from pipeline.send.providers import make_provider
from subscribers import import_csv
from subscribers.store import active_ids, iter_all

app = typer.Typer(
    help="Collect news, render the newsletter, send it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create or migrate the database.", no_args_is_help=True)
subscribers_app = typer.Typer(help="The subscriber store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(subscribers_app, name="subscribers")

out = Console()
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="config.yaml to use (default: ./config.yaml or $NEWSLETTER_CONFIG)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _config(path: Path | None) -> Config:
    return load_config(config_path_from_env(path))


def _open(path: Path | None) -> tuple[Config, sa.Engine]:
    """Config and database, refusing an out-of-date schema."""
    config = _config(path)
    engine = db.make_engine(config.database.url)
    db.require_current_schema(engine)
    return config, engine


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create the database or apply pending migrations."""
    settings = _config(config)
    engine = db.make_engine(settings.database.url)
    before, after = db.upgrade(engine)
    shown = engine.url.render_as_string(hide_password=True)
    if before == after:
        out.print(f"The database {shown} is up to date (revision {after}).")
    else:
        out.print(f"Upgraded {shown} from {before or 'empty'} to revision {after}.")


@app.command()
def collect(config: ConfigOption = None) -> None:
    """Read the content folder (and feeds) into the item queue."""
    settings, engine = _open(config)
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


@app.command()
def preview(
    config: ConfigOption = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the preview into.")
    ] = Path("preview"),
) -> None:
    """Render the next issue to HTML and text files without sending."""
    settings, engine = _open(config)
    with engine.connect() as connection:
        content = next_issue_content(connection, settings, db.now())
    if not content.items:
        out.print("Nothing is queued for the next issue: no preview written.")
        return
    files = write_preview(content, render_variants(content, settings), settings, out_dir)
    out.print(
        f"Preview of issue {content.number} ({len(content.items)} items) written to "
        f"{out_dir / 'index.html'}: " + ", ".join(str(f.html_path) for f in files)
    )


@app.command()
def send(
    config: ConfigOption = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an unfinished issue.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render and count, send nothing.")
    ] = False,
) -> None:
    """Build the next issue and deliver it, or finish an unfinished one."""
    settings, engine = _open(config)
    if dry_run:
        _dry_run(settings, engine)
        return
    if resume:
        with engine.connect() as connection:
            unfinished = unfinished_issue(connection)
        if unfinished is None:
            out.print("No issue is unfinished: nothing to resume.")
            return
        issue_id, number = unfinished
        settled = settle_interrupted(engine, issue_id, settings.provider.crash_policy)
        if settled:
            policy = settings.provider.crash_policy
            out.print(f"{settled} deliveries were interrupted mid-send ({policy}).")
    else:
        try:
            built = build_issue(engine, settings, db.now())
        except NothingToSend as exc:
            out.print(f"Nothing sent: {exc}.")
            return
        issue_id, number = built.id, built.number
        out.print(f"Issue {number} built: {built.item_count} items, {built.recipients} recipients.")
    summary = _deliver_with_progress(settings, engine, issue_id, number)
    _print_summary(number, summary, settings)


def _dry_run(settings: Config, engine: sa.Engine) -> None:
    with engine.connect() as connection:
        content = next_issue_content(connection, settings, db.now())
        audience = connection.execute(
            sa.select(sa.func.count()).select_from(active_ids().subquery())
        ).scalar_one()
    variants = render_variants(content, settings) if content.items else []
    sizes = ", ".join(f"{v.locale} {len(v.html.encode()) // 1024} KB" for v in variants)
    out.print(
        f"Dry run: issue {content.number} would hold {len(content.items)} items "
        f"for {audience} recipients{f' ({sizes})' if sizes else ''}. Nothing was sent."
    )


def _deliver_with_progress(
    settings: Config, engine: sa.Engine, issue_id: int, number: int
) -> DeliverySummary:
    with engine.connect() as connection:
        remaining = ledger.counts(connection, issue_id).get("pending", 0)
    columns = (
        TextColumn(f"issue {number}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task("sending", total=remaining)
        return deliver(
            engine,
            settings,
            issue_id,
            make_provider(settings),
            secret_key(),
            progress=lambda done: bar.advance(task, done),
        )


def _print_summary(number: int, summary: DeliverySummary, settings: Config) -> None:
    where = f" into {settings.provider.outbox_dir}" if settings.provider.name == "outbox" else ""
    out.print(f"Issue {number}: {summary.sent} sent{where}, {summary.failed} failed.")
    if summary.unsettled:
        out.print(
            f"{summary.unsettled} deliveries were interrupted by a crash and not sent again "
            "(crash_policy at_most_once): they may or may not have arrived."
        )


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
    settings, engine = _open(config)
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
    _settings, engine = _open(config)
    with engine.connect() as connection:
        everyone = list(iter_all(connection))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "email": s.email,
                        "name": s.name,
                        "locale": s.locale,
                        "topics": list(s.topics),
                        "state": s.state,
                    }
                    for s in everyone
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table("email", "name", "locale", "topics", "state")
    for s in everyone:
        table.add_row(s.email, s.name, s.locale, ", ".join(s.topics), s.state)
    out.print(table)


def main() -> None:
    """Entry point: every NewsletterError becomes one line on stderr and a non-zero exit."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        app()
    except SendRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(3)
    except NewsletterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
