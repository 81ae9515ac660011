"""`newsletter preview` and `newsletter send`: the next issue, shown or delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from pipeline import db
from pipeline.cli.common import ConfigOption, keys_for, open_store, out
from pipeline.config import Config
from pipeline.environment import SigningKeys
from pipeline.issue.build import (
    NothingToSend,
    audience,
    build_issue,
    next_issue_content,
    render_variants,
    unfinished_issue,
)
from pipeline.partner_mail import tell_partners
from pipeline.render.preview import serve_preview, write_preview
from pipeline.send import ledger
from pipeline.send.dispatcher import DeliverySummary, batch_size, deliver
from pipeline.send.past_issue import issue_to_resume, refuse_without_mode, reopen_failed
from pipeline.send.providers import make_provider
from subscribers.store import active_ids


def preview(
    config: ConfigOption = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the preview into.")
    ] = Path("preview"),
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the preview on localhost until Ctrl-C.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --serve (0: any free).")] = 8025,
) -> None:
    """Render the next issue to HTML and text files without sending."""
    settings, engine = open_store(config)
    keys = keys_for(settings)  # its calendar links are signed: its items have not gone out
    with engine.connect() as connection:
        content = next_issue_content(connection, settings, db.now())
        readers = audience(connection, settings.site.locale)
    if not content.items:
        out.print("Nothing is queued for the next issue: no preview written.")
        return
    variants = render_variants(content, settings, readers, preview_keys=keys)
    files = write_preview(content, variants, settings, out_dir)
    out.print(
        f"Preview of issue {content.number} ({len(content.items)} items) written to "
        f"{out_dir / 'index.html'}: " + ", ".join(str(f.html_path) for f in files)
    )
    if serve:
        serve_preview(out_dir, port, lambda url: out.print(f"Serving the preview at {url}"))


def send(
    config: ConfigOption = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an unfinished issue.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render and count, send nothing.")
    ] = False,
    issue: Annotated[
        int | None,
        typer.Option(
            "--issue",
            metavar="N",
            help="Work on issue N, with --resume or --retry-failed, instead of a new issue.",
        ),
    ] = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="With --issue N: send N's failed deliveries again (never the sent or "
            "unsettled ones).",
        ),
    ] = False,
) -> None:
    """Build the next issue and deliver it, or finish an unfinished one."""
    if retry_failed and (issue is None or resume):
        raise typer.BadParameter(
            "goes with --issue N, without --resume", param_hint="--retry-failed"
        )
    if dry_run and (issue is not None or resume):
        raise typer.BadParameter("shows the next issue only", param_hint="--dry-run")
    settings, engine = open_store(config)
    if dry_run:
        _dry_run(settings, engine)
        return
    keys = keys_for(settings)
    chosen = _issue_to_send(settings, engine, issue, resume=resume, retry_failed=retry_failed)
    if chosen is None:
        return
    issue_id, number = chosen
    summary = _deliver_with_progress(settings, engine, keys, issue_id, number, resume)
    _print_summary(number, summary, settings)
    told = tell_partners(settings, engine, issue_id, db.now())
    if told:
        out.print(f"{told} partner(s) told that their news went out.")


def _issue_to_send(
    settings: Config, engine: sa.Engine, number: int | None, *, resume: bool, retry_failed: bool
) -> tuple[int, int] | None:
    """(id, number) of the issue this send works on, None when there is nothing to do;
    SendRefused when the asked-for issue cannot be sent now."""
    if retry_failed and number is not None:
        reopened = reopen_failed(engine, number, db.now())
        skipped = (
            f"; {reopened.skipped} of readers no longer mailed skipped" if reopened.skipped else ""
        )
        if not reopened.reopened:
            out.print(f"Issue {number} has no failed deliveries to send again{skipped}.")
            return None
        out.print(
            f"Sending {reopened.reopened} failed deliveries of issue {number} again{skipped}."
        )
        return reopened.issue.id, number
    if number is not None:
        with engine.connect() as connection:
            if not resume:
                raise refuse_without_mode(connection, number)
            found = issue_to_resume(connection, number)
        out.print(f"Resuming issue {number}.")
        return found.id, number
    if resume:
        with engine.connect() as connection:
            unfinished = unfinished_issue(connection)
        if unfinished is None:
            out.print("No issue is unfinished: nothing to resume.")
            return None
        out.print(f"Resuming issue {unfinished[1]}.")
        return unfinished
    try:
        built = build_issue(engine, settings, db.now())
    except NothingToSend as exc:
        out.print(f"Nothing sent: {exc}.")
        return None
    for warning in built.warnings:
        out.print(str(warning), highlight=False)
    out.print(
        f"Issue {built.number} built: {built.item_count} items, {built.recipients} recipients."
    )
    return built.id, built.number


def _dry_run(settings: Config, engine: sa.Engine) -> None:
    with engine.connect() as connection:
        content = next_issue_content(connection, settings, db.now())
        audience = connection.execute(
            sa.select(sa.func.count()).select_from(active_ids().subquery())
        ).scalar_one()
    variants = render_variants(content, settings) if content.items else []
    sizes = ", ".join(f"{v.locale} {len(v.html.encode()) // 1024} KB" for v in variants)
    provider = make_provider(settings)
    per_call = batch_size(settings, provider)
    calls = -(-audience // per_call)
    out.print(
        f"Dry run: issue {content.number} would hold {len(content.items)} items "
        f"for {audience} recipients{f' ({sizes})' if sizes else ''}, "
        f"in {calls} {provider.name} calls of up to {per_call}, "
        f"at most {settings.provider.rate_per_s:g} recipients/s "
        f"(at least {_duration(audience / settings.provider.rate_per_s)}). Nothing was sent."
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


class RateColumn(ProgressColumn):
    """Recipients a second, as Rich measures them over the last moments."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s")


def _deliver_with_progress(
    settings: Config,
    engine: sa.Engine,
    keys: SigningKeys,
    issue_id: int,
    number: int,
    resume: bool,
) -> DeliverySummary:
    with engine.connect() as connection:
        by_state = ledger.counts(connection, issue_id)
    remaining = by_state.get("pending", 0) + by_state.get("sending", 0)
    columns = (
        TextColumn(f"issue {number}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task("sending", total=remaining)
        return deliver(
            engine,
            settings,
            issue_id,
            make_provider(settings),
            keys,
            progress=lambda done: bar.advance(task, done),
            resume=resume,
        )


def _print_summary(number: int, summary: DeliverySummary, settings: Config) -> None:
    settled = summary.settlement
    if settled.total:
        out.print(
            f"Interrupted deliveries of a dead run: {settled.confirmed} confirmed sent by the "
            f"provider, {settled.resent} sent again, {settled.unsettled} left unsettled."
        )
    where = f" into {settings.provider.outbox_dir}" if settings.provider.name == "outbox" else ""
    out.print(
        f"Issue {number}: {summary.sent} sent{where}, {summary.failed} failed, "
        f"{summary.cancelled} skipped, {summary.unsettled} unsettled "
        f"({summary.delivered_now} in this run, {summary.elapsed_s:.1f} s, "
        f"{summary.rate_per_s:,.0f}/s)."
    )
    for reason in summary.failure_reasons:
        out.print(f"  failed: {reason}")
    if summary.unsettled:
        out.print(
            f"{summary.unsettled} deliveries were interrupted by a crash and not sent again "
            "(crash_policy at_most_once): they may or may not have arrived."
        )
