"""`newsletter run`: the scheduler daemon in the foreground (systemd runs it)."""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType
from typing import Annotated

import typer

from pipeline.cli.common import ConfigOption, keys_for, open_store, options, out
from pipeline.config import config_path_from_env
from pipeline.issue.build import unfinished_issue
from pipeline.logs import LogFormat, configure
from pipeline.schedule import jobs
from pipeline.schedule.daemon import Daemon
from pipeline.schedule.leader import make_leader_lock

log = logging.getLogger("newsletter.daemon")
EXIT_FORCED = 130


def run(
    config: ConfigOption = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="`text` or `json` (one object a line).")
    ] = "text",
) -> None:
    """Collect, build and send on the schedule in config.yaml until stopped."""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--log-format")
    chosen: LogFormat = "json" if log_format == "json" else "text"
    configure(chosen)
    settings, engine = open_store(config)
    keys_for(settings)  # refuses to start without a signing key, before any job runs
    if options.development:
        jobs.DEVELOPMENT_SITE.set()
    stop = jobs.SHUTTING_DOWN

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning(
                "daemon: %s again: stopping at once; `newsletter send --resume` "
                "finishes whatever was being sent",
                name,
            )
            os._exit(EXIT_FORCED)
        log.info("daemon: %s: stopping after the calls in flight (again to stop at once)", name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lock = make_leader_lock(engine, settings.schedule.leader_lease_s)
    daemon = Daemon(config_path_from_env(config).resolve(), settings, engine, lock, stop)
    left = daemon.run()
    with engine.connect() as connection:
        unfinished = unfinished_issue(connection)
    if unfinished is not None:
        left += (
            f"; issue {unfinished[1]} is unfinished and resumes at the next start "
            "(or with `newsletter send --resume`)"
        )
    out.print(f"newsletter run: {left}.")
