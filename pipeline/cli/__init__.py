"""The `newsletter` command: parses, calls one function, prints what it did.

Each group of commands lives in its own module and is registered here.
"""

from __future__ import annotations

import logging
import sys

import typer

from pipeline.cli.collect_commands import collect
from pipeline.cli.db_commands import db_app
from pipeline.cli.issue_commands import preview, send
from pipeline.cli.queue_commands import queue_app
from pipeline.cli.status_commands import status
from pipeline.cli.subscriber_commands import subscribers_app
from pipeline.errors import ConfigError, NewsletterError, SendRefused

app = typer.Typer(
    help="Collect news, render the newsletter, send it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(queue_app, name="queue")
app.command()(collect)
app.command()(preview)
app.command()(send)
app.command()(status)

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_REFUSED = 3


def main() -> None:
    """Entry point: every NewsletterError becomes one line on stderr and a non-zero exit."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        app()
    except SendRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except NewsletterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
