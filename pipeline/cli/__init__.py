"""The `newsletter` command: parses, calls one function, prints what it did.

Each group of commands lives in its own module and is registered here.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from pipeline.cli.bounce_commands import bounces_app
from pipeline.cli.collect_commands import collect
from pipeline.cli.common import options
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
from pipeline.files import apply_umask

app = typer.Typer(
    help="Collect news, render the newsletter, send it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def global_options(
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="A development site: commands may sign with the public development key "
            "when NEWSLETTER_SECRET_KEY is unset. Never on a site that mails real readers.",
        ),
    ] = False,
) -> None:
    """Collect news, render the newsletter, send it."""
    options.development = dev


app.add_typer(db_app, name="db")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(queue_app, name="queue")
app.add_typer(bounces_app, name="bounces")
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


def _global_options_first(argv: list[str]) -> list[str]:
    """`--dev` goes before the command wherever it was given, and a `--config PATH` given
    before the command goes after it, where each command takes it."""
    rest = [arg for arg in argv if arg != "--dev"]
    leading: list[str] = []
    while rest and (rest[0].startswith("--config=") or (rest[0] == "--config" and len(rest) > 1)):
        taken = 1 if rest[0].startswith("--config=") else 2
        leading += rest[:taken]
        rest = rest[taken:]
    return (["--dev"] if "--dev" in argv else []) + rest + leading


def main(argv: list[str] | None = None) -> None:
    """Entry point: every NewsletterError becomes one line on stderr and a non-zero exit."""
    _log_warnings_to_stderr()
    options.development = False
    try:
        apply_umask()  # before any file is made: the database, the outbox, exports
        app(args=_global_options_first(sys.argv[1:] if argv is None else argv))
    except SendRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except NewsletterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
