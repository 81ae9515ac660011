"""A `newsletter worker` against the loopback mail service, in a process of its own:
`python -m tests.send.run_worker CONFIG URL`. The same loop as the command; only the
provider is the loopback one. On SIGTERM it prints, as one JSON line, what it delivered
and its peak memory."""

from __future__ import annotations

import json
import resource
import signal
import sys
import threading
from pathlib import Path

from pipeline import db
from pipeline.config import load_config
from pipeline.environment import DEVELOPMENT_SECRET_KEY
from pipeline.send.workers import run_worker
from tests.send.loopback_provider import LoopbackProvider


def main() -> None:
    config_path, url = sys.argv[1:]
    config = load_config(Path(config_path))
    engine = db.make_engine(config.database.url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    batch = config.provider.max_batch or 100
    report = run_worker(
        engine,
        config,
        lambda: LoopbackProvider(url, max_batch=batch),
        DEVELOPMENT_SECRET_KEY,
        stop,
        poll_s=0.2,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"delivered": report.delivered, "peak_mb": peak_mb}))


if __name__ == "__main__":
    main()
