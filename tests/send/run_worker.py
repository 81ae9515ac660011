"""A `newsletter worker` against the loopback mail service, in a process of its own:
`python -m tests.send.run_worker CONFIG URL`. The same loop as the command; only the
provider is the loopback one. On SIGTERM it prints, as one JSON line, what it delivered,
its peak memory, and its CPU time with the part spent starting up."""

from __future__ import annotations

import signal
import threading

# Before the slow imports: a SIGTERM while this process is still starting must stop it
# the same clean way, with its report.
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.memory import peak_rss_mb  # noqa: E402
from pipeline import db  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.environment import DEVELOPMENT_SECRET_KEY  # noqa: E402
from pipeline.send.workers import run_worker  # noqa: E402
from tests.send.loopback_provider import LoopbackProvider  # noqa: E402


def main() -> None:
    config_path, url = sys.argv[1:]
    config = load_config(Path(config_path))
    engine = db.make_engine(config.database.url)
    batch = config.provider.max_batch or 100
    started = resource.getrusage(resource.RUSAGE_SELF)
    report = run_worker(
        engine,
        config,
        lambda: LoopbackProvider(url, max_batch=batch),
        DEVELOPMENT_SECRET_KEY,
        stop,
        poll_s=0.2,
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage.ru_utime + usage.ru_stime
    startup_s = started.ru_utime + started.ru_stime
    figures = {"delivered": report.delivered, "peak_mb": peak_rss_mb(), "cpu_s": cpu_s}
    print(json.dumps(figures | {"startup_cpu_s": startup_s}))


if __name__ == "__main__":
    main()
