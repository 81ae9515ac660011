"""The `newsletter` command: parses, calls one function, prints what it did.

Each group of commands lives in its own module and is registered here.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Annotated, get_args

import typer

from pipeline.cli.common import options
from pipeline.cli.help_text import readable_metavars
from pipeline.config import Locale
from pipeline.errors import ConfigError, NewsletterError, SendRefused
from pipeline.files import apply_umask

# Command name -> (module, attribute, a group of subcommands?), in the order `--help` lists
# them. Only the module of the command being run is imported: `collect` need not load the
# web app, the scheduler or the renderer.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "db": ("pipeline.cli.db_commands", "db_app", True),
    "subscribers": ("pipeline.cli.subscriber_commands", "subscribers_app", True),
    "queue": ("pipeline.cli.queue_commands", "queue_app", True),
    "bounces": ("pipeline.cli.bounce_commands", "bounces_app", True),
    "sources": ("pipeline.cli.source_commands", "sources_app", True),
    "partners": ("pipeline.cli.partner_commands", "partners_app", True),
    "api": ("pipeline.cli.api_commands", "api_app", True),
    "collect": ("pipeline.cli.collect_commands", "collect", False),
    "preview": ("pipeline.cli.issue_commands", "preview", False),
    "send": ("pipeline.cli.issue_commands", "send", False),
    "run": ("pipeline.cli.run_commands", "run", False),
    "serve": ("pipeline.cli.web_commands", "serve", False),
    "worker": ("pipeline.cli.worker_commands", "worker", False),
    "preflight": ("pipeline.cli.render_commands", "preflight_command", False),
    "test-send": ("pipeline.cli.render_commands", "test_send", False),
    "status": ("pipeline.cli.status_commands", "status", False),
    "report": ("pipeline.cli.report_commands", "report", False),
}


def build_app(command: str | None = None) -> typer.Typer:
    """The `newsletter` app with `command` alone, or with every command when `command` is
    None or not one of them (so that `--help` and "No such command" list them all)."""
    app = typer.Typer(
        help="Collect news, render the newsletter, send it.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(global_options)
    names = [command] if command in COMMANDS else list(COMMANDS)
    for name in names:
        module, attribute, group = COMMANDS[name]
        registered = getattr(importlib.import_module(module), attribute)
        if group:
            app.add_typer(registered, name=name)
        else:
            app.command(name)(registered)
    return app


def global_options(
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="A development site: commands may sign with the public development key "
            "when NEWSLETTER_SECRET_KEY is unset. Never on a site that mails real readers.",
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="de|en",
            help="The language of tables and messages (default: site.locale). JSON keys "
            "and values are never translated.",
        ),
    ] = None,
) -> None:
    """Collect news, render the newsletter, send it."""
    if lang is not None and lang not in get_args(Locale):
        raise ConfigError(f"--lang: {lang!r} is not one of {', '.join(get_args(Locale))}")
    options.development = dev
    options.lang = lang


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
    """`--dev` and `--lang X` go before the command wherever they were given, and a
    `--config PATH` given before the command goes after it, where each command takes it."""
    rest: list[str] = []
    first: list[str] = []
    arguments = iter(argv)
    for arg in arguments:
        if arg == "--dev" or arg.startswith("--lang="):
            first.append(arg)
        elif arg == "--lang":
            first += [arg, next(arguments, "")]
        else:
            rest.append(arg)
    leading: list[str] = []
    while rest and (rest[0].startswith("--config=") or (rest[0] == "--config" and len(rest) > 1)):
        taken = 1 if rest[0].startswith("--config=") else 2
        leading += rest[:taken]
        rest = rest[taken:]
    return first + rest + leading


def main(argv: list[str] | None = None) -> None:
    """Entry point: every NewsletterError becomes one line on stderr and a non-zero exit."""
    _log_warnings_to_stderr()
    options.development = False
    options.lang = None
    try:
        apply_umask()  # before any file is made: the database, the outbox, exports
        args = _global_options_first(sys.argv[1:] if argv is None else argv)
        app = build_app(next((arg for arg in args if not arg.startswith("-")), None))
        command = typer.main.get_command(app)
        readable_metavars(command)
        command(args=args)
    except SendRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_REFUSED)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except NewsletterError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
