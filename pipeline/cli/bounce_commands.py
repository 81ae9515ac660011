"""`newsletter bounces ...`: the bounce address of SMTP senders, and its mailbox."""

from __future__ import annotations

import asyncio

import typer

from pipeline.bounces.fetch import FetchReport, default_classifier, fetch_bounces
from pipeline.cli.common import ConfigOption, keys_for, open_store, read_config
from pipeline.config import Config
from pipeline.errors import ConfigError, NewsletterError
from pipeline.send.providers import smtp_server
from pipeline.send.verp_probe import SenderAnswer, VerpProbe, probe_verp

bounces_app = typer.Typer(
    help="The bounce address (check the relay takes it) and its mailbox (fetch).",
    no_args_is_help=True,
)


class RelayRefused(NewsletterError):
    """The relay would refuse the envelope sender a send uses."""


@bounces_app.command("check")
def check(config: ConfigOption = None) -> None:
    """Ask the SMTP relay whether it takes VERP senders (nothing is sent)."""
    settings = read_config(config)
    if settings.provider.name != "smtp":
        typer.echo(_not_smtp(settings))
        return
    address = settings.bounces.address
    if address is None:
        raise ConfigError(
            "bounces.address is not set: mail goes out with the sender address "
            f"{settings.site.sender.address} as its envelope sender and no bounce names its "
            "delivery; set it to a mailbox that takes `+` addresses (docs/operations.md)"
        )
    server = smtp_server(settings.provider)
    probe = asyncio.run(probe_verp(server, address))
    for line in verdict(probe, relay=f"{server.host}:{server.port}", verp=settings.bounces.verp):
        typer.echo(line)  # unwrapped: a line to read or grep whole


def _not_smtp(settings: Config) -> str:
    name = settings.provider.name
    if name == "outbox":
        return (
            "provider.name is outbox: nothing goes through a relay; each .eml starts with "
            "the Return-Path of its envelope sender. Nothing to check."
        )
    return (
        f"provider.name is {name}, not smtp: {name} sends from its own envelope address and "
        f"reports bounces to /webhooks/{name}. Nothing to check."
    )


def verdict(probe: VerpProbe, *, relay: str, verp: bool) -> list[str]:
    """What the answers mean for a send, in a line or two; RelayRefused when a send
    through this relay would be refused."""
    if probe.verp is None:
        raise RelayRefused(
            f"the relay {relay} refuses the bounce address {probe.plain.sender} as sender "
            f"({_refusal(probe.plain)}): no mail with it as envelope sender would go out; "
            "let the login send as it, or change bounces.address"
        )
    answer = probe.verp
    if answer.accepted:
        lines = [
            f"The relay {relay} accepts VERP senders ({answer.sender}): bounces are matched "
            "by their envelope, the address they come back to."
        ]
        if not verp:
            lines.append("bounces.verp is false: set it to true to send with them.")
        return lines
    if 400 <= answer.code < 500:
        raise RelayRefused(
            f"the relay {relay} put off the VERP sender {answer.sender} "
            f"({_refusal(answer)}); try again later"
        )
    if verp:
        raise RelayRefused(
            f"the relay {relay} refuses `+` senders ({_refusal(answer)}), so every send "
            "through it would be refused: set bounces.verp: false, and bounces will be "
            "matched by the returned headers (X-Newsletter-Delivery, Message-ID) only"
        )
    return [
        f"The relay {relay} refuses `+` senders ({_refusal(answer)}); bounces will be "
        "matched by the returned headers (X-Newsletter-Delivery, Message-ID) only."
    ]


def _refusal(answer: SenderAnswer) -> str:
    return f"{answer.refused_at}: {answer.reply}"


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
    """Unwrapped lines: each one to read or grep whole."""
    typer.echo(summary(report))
    for action in report.actions:
        typer.echo(f"  {action}")
    if report.pruned:
        typer.echo(f"  the bytes of {report.pruned} old message(s) dropped (bounces.keep_days)")
    for problem in report.problems:
        typer.echo(f"warning: {problem} (left in the mailbox for the next read)", err=True)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if report.forwarding_off:
        typer.echo(f"warning: {report.forwarding_off}", err=True)
