"""Scale-out: one send shared by 1, 2 and 4 `newsletter worker` processes on PostgreSQL.

    .venv/bin/python bench/scale.py [--subscribers 1000000] [--workers 1,2,4]
                                    [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Each round builds a fresh issue of the sample content for every generated reader (the
ledger filled in the database), starts N worker processes (the command's own loop with
the loopback batch provider: the body once per call, 1,000 readers a call) and times
them until the issue is finished. Prints recipients a second per round, the machine's
busy share and recipients per CPU-second (every process on the machine: the workers,
PostgreSQL, the loopback service; from /proc/stat), each worker's peak memory, and
whether n workers reach the aim: 0.8 / (the one-process run's busy share) times its rate,
at most 2x.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.send import make_project, requeue_sample_items  # noqa: E402
from pipeline import db  # noqa: E402
from pipeline.collect import collect  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.db import issues  # noqa: E402
from pipeline.issue.build import build_issue  # noqa: E402
from tests.send.conftest import add_readers, start_loopback  # noqa: E402

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


class MachineCpu:
    """CPU used machine-wide since this object was made."""

    def __init__(self) -> None:
        self.busy, self.total = _ticks()

    def busy_share(self) -> float:
        """Busy ticks over all ticks (1.0: every core busy throughout)."""
        busy, total = _ticks()
        return (busy - self.busy) / max(1, total - self.total)

    def busy_s(self) -> float:
        """CPU-seconds used by all processes, summed over the cores."""
        busy, _total = _ticks()
        return (busy - self.busy) / TICKS_PER_S


def fresh_database(admin_url: str) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"newsletter_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = sa.engine.make_url(url).database
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass(frozen=True)
class Round:
    rate: float
    """Recipients a second."""
    busy_share: float
    """Of the whole machine (every core, every process), from /proc/stat."""
    per_cpu_s: float
    """Recipients per CPU-second of the whole machine."""


def one_round(config_path: Path, engine: sa.Engine, url: str, workers: int) -> Round:
    requeue_sample_items(engine)
    started = time.perf_counter()
    built = build_issue(engine, load_config(config_path), db.now())
    ledger_s = time.perf_counter() - started
    command = [sys.executable, "-m", "tests.send.run_worker", str(config_path), url]
    machine = MachineCpu()
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    while True:
        with engine.connect() as connection:
            state = connection.execute(
                sa.select(issues.c.state).where(issues.c.id == built.id)
            ).scalar_one()
        if state == "sent":
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    busy_share, busy_s = machine.busy_share(), machine.busy_s()
    for process in processes:
        process.send_signal(signal.SIGTERM)
    reports = [
        json.loads(process.communicate()[0].strip().splitlines()[-1]) for process in processes
    ]
    peaks = ", ".join(f"{report['peak_mb']:.0f}" for report in reports)
    workers_cpu_s = sum(report["cpu_s"] for report in reports)
    startup_cpu_s = sum(report["startup_cpu_s"] for report in reports)
    shares = ", ".join(f"{report['delivered']:,}" for report in reports)
    figures = Round(built.recipients / elapsed, busy_share, built.recipients / busy_s)
    print(
        f"{workers} worker(s): {built.recipients:,} recipients in {elapsed:.1f} s = "
        f"{figures.rate:,.0f}/s (ledger filled in {ledger_s:.1f} s); machine "
        f"{busy_share:.0%} busy = {figures.per_cpu_s:,.0f} recipients per CPU-second "
        f"(the workers' own CPU: {workers_cpu_s:.1f} s, of which {startup_cpu_s:.1f} s "
        f"starting up; {(workers_cpu_s - startup_cpu_s) * 1e6 / built.recipients:.0f} µs "
        "a recipient after start-up); "
        f"delivered per worker: {shares}; peak memory per worker (MB): {peaks}",
        flush=True,
    )
    return figures


def target_note(rounds: dict[int, Round]) -> str:
    """The issue's aim: n processes reach 0.8 / (the one-process run's busy share) times
    its rate, at most 2x, which CPU per recipient that does not grow with n allows."""
    one = rounds[1]
    factor = min(2.0, 0.8 / one.busy_share)
    lines = []
    for workers, figures in sorted(rounds.items()):
        if workers == 1:
            continue
        reached = figures.rate / one.rate
        verdict = "reached" if reached >= factor else "NOT reached"
        lines.append(
            f"{workers} workers: {reached:.2f}x the one-process rate, target {factor:.2f}x "
            f"(0.8 / {one.busy_share:.2f}, at most 2x): {verdict}; CPU per recipient "
            f"{one.per_cpu_s / figures.per_cpu_s:.2f}x the one-process run's"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="an existing database to create the bench's own database from",
    )
    arguments = parser.parse_args()
    url = fresh_database(arguments.database_url)
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            config_path = make_project(root, url)
            raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
            raw["provider"].update(max_batch=1000, concurrency=4)
            config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
            config = load_config(config_path)
            engine = db.make_engine(config.database.url)
            db.upgrade(engine)
            collect(config, engine)
            started = time.perf_counter()
            add_readers(engine, arguments.subscribers)
            took = time.perf_counter() - started
            print(f"{arguments.subscribers:,} readers generated in {took:.1f} s")
            server, service = start_loopback(root)
            try:
                rounds = {
                    workers: one_round(config_path, engine, service.url, workers)
                    for workers in (int(n) for n in arguments.workers.split(","))
                }
                if 1 in rounds:
                    print(target_note(rounds))
            finally:
                server.kill()
                server.wait()
            engine.dispose()
    finally:
        drop_database(arguments.database_url, url)


if __name__ == "__main__":
    main()
