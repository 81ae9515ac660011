"""`newsletter bounces ...`: the bounce mailbox."""

from __future__ import annotations

import typer

from pipeline.bounces.fetch import FetchReport, default_classifier, fetch_bounces
from pipeline.cli.common import ConfigOption, keys_for, open_store, out

bounces_app = typer.Typer(help="The bounce mailbox.", no_args_is_help=True)


@bounces_app.command("fetch")
def bounces_fetch(config: ConfigOption = None) -> None:
    """Read the bounce mailbox once (the daemon does it on `schedule.bounces`)."""
    settings, engine = open_store(config)
    report = fetch_bounces(settings, engine, keys_for(settings), default_classifier())
    print_report(report)


def summary(report: FetchReport) -> str:
    """One line: counts by kind, unrecognised, what was filed again."""
    new = sum(report.counts.values())
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.counts.items()))
    line = f"{report.mailbox}: {new} new message(s)" + (f" ({kinds})" if kinds else "")
    line += f"; {report.unrecognised} unrecognised"
    if report.kept:
        line += f"; {report.kept} repl{'y' if report.kept == 1 else 'ies'} left unread"
    if report.refiled:
        line += f"; {report.refiled} read before, filed now"
    return line


def print_report(report: FetchReport) -> None:
    out.print(summary(report), highlight=False)
    for action in report.actions:
        out.print(f"  {action}", highlight=False)
    if report.pruned:
        out.print(f"  the bytes of {report.pruned} old message(s) dropped (bounces.keep_days)")
    for problem in report.problems:
        typer.echo(f"warning: {problem} (left in the mailbox for the next read)", err=True)
    if report.forwarding_off:
        typer.echo(f"warning: {report.forwarding_off}", err=True)
