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
from pipeline.cli.render_commands import preflight_command, test_send
from pipeline.cli.run_commands import run
from pipeline.cli.status_commands import status
from pipeline.cli.subscriber_commands import subscribers_app
from pipeline.cli.web_commands import serve
from pipeline.cli.worker_commands import worker
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
app.command()(run)
app.command()(serve)
app.command()(worker)
app.command("preflight")(preflight_command)
app.command("test-send")(test_send)
app.command()(status)

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_REFUSED = 3


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the event, not at set-up."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _log_warnings_to_stderr() -> None:
    root = logging.getLogger()
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)
        root.setLevel(min(root.level, logging.WARNING) or logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every NewsletterError becomes one line on stderr and a non-zero exit."""
    _log_warnings_to_stderr()
    try:
        app(args=argv)
    except SendRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except NewsletterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
