"""`newsletter worker`: an extra delivery process for sends on PostgreSQL."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from pipeline.cli.common import ConfigOption, keys_for, open_store, out
from pipeline.logs import configure
from pipeline.send.providers import make_provider
from pipeline.send.workers import require_scale_out_database, run_worker


def worker(
    config: ConfigOption = None,
    poll_s: Annotated[
        float, typer.Option("--poll-s", help="Seconds between looks for work when idle.")
    ] = 5.0,
) -> None:
    """Join any send under way (and wait for the next) until stopped; PostgreSQL only."""
    configure("text")
    settings, engine = open_store(config)
    keys = keys_for(settings)
    require_scale_out_database(engine)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    report = run_worker(
        engine, settings, lambda: make_provider(settings), keys, stop, poll_s=poll_s
    )
    out.print(
        f"newsletter worker: stopped; delivered {report.delivered} in "
        f"{report.sends_joined} run(s); claimed rows not sent went back to the queue."
    )
