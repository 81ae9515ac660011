"""`newsletter send` as a user times it: the whole command as a process, start to exit.

    .venv/bin/python -m bench.send_command [--subscribers 100000]
        [--providers sendgrid,mailgun,brevo,postmark,ses] [--databases sqlite,postgresql]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--concurrency N] [--profile PROVIDER]

For each database and provider: a fresh project (the sample content collected, N generated
readers), then `newsletter send` in a subprocess against fake mail APIs that answer at once
(bench/counting_fake.py, a process of its own; `provider.base_url` points the command at
it). Start-up, building the issue, the ledger, the calls and the summary are all in the
time. Prints recipients a second end to end, the command's peak RSS (VmHWM, sampled), the
CPU the command used and the machine's busy share (all processes, /proc/stat), and what the
fake received: every delivery key exactly once, or the bench fails. The sample config
tracks clicks (`analytics.clicks`), so every message carries its own signed click token;
`--code` runs a baseline checkout for the figures before.

`--profile PROVIDER` runs that provider's send under cProfile and prints the top entries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scale import MachineCpu, drop_database, fresh_database  # noqa: E402
from bench.send import make_project  # noqa: E402
from pipeline import db  # noqa: E402
from pipeline.collect import collect  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from tests.send.conftest import add_readers  # noqa: E402

PROVIDERS = ["sendgrid", "mailgun", "brevo", "postmark", "ses"]
CONCURRENCY = {"ses": 16}
"""Calls in flight: config.yaml's 4, and more for one message a call (the operator's
setting for SES; one call at a time would measure the round trip, not the command)."""
SETTINGS = {
    "mailgun": {"domain": "mg.example.org"},
    "ses": {"region": "eu-central-1"},
}
ENVIRONMENT = {
    "NEWSLETTER_PROVIDER_TOKEN": "bench-token",
    "NEWSLETTER_SECRET_KEY": "bench-secret-key-of-enough-length-0123456789",
    "AWS_ACCESS_KEY_ID": "AKIDBENCH",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
}


@contextmanager
def counting_fake(root: Path) -> Iterator[str]:
    port_file = root / "fake.port"
    fake = subprocess.Popen([sys.executable, "-m", "bench.counting_fake", str(port_file)], cwd=REPO)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or fake.poll() is not None:
                raise RuntimeError("the fake mail APIs did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{json.loads(port_file.read_text())}"
    finally:
        fake.terminate()
        fake.wait()


def fake_counts(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/_counts", timeout=10) as answer:
        counts: dict[str, object] = json.load(answer)
    return counts


def configure(config_path: Path, provider: str, url: str, concurrency: int | None) -> None:
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw["provider"] = {
        "name": provider,
        "base_url": url,
        "rate_per_s": 1_000_000,
        "concurrency": concurrency or CONCURRENCY.get(provider, 4),
        **SETTINGS.get(provider, {}),
    }
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def peak_of(pid: int, last: float) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return last
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return max(last, int(line.split()[1]) / 1024)
    return last


def run_send(
    config_path: Path, profile_to: Path | None, code: Path | None
) -> tuple[float, float, float, float]:
    """(seconds, peak MB, CPU seconds of the command, machine busy share) of one send."""
    script = str(REPO / ".venv" / "bin" / "newsletter")
    command = [sys.executable, script, "--config", str(config_path), "send"]
    if profile_to is not None:
        command[1:1] = ["-m", "cProfile", "-o", str(profile_to)]
    environment = os.environ | ENVIRONMENT
    if code is not None:
        environment["PYTHONPATH"] = str(code)
    output = config_path.parent / "send.out"
    machine = MachineCpu()
    started = time.perf_counter()
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=config_path.parent, env=environment, stdout=sink, stderr=sink
        )
    peak = 0.0
    while True:
        # wait4, not poll(): the exit status comes with the command's own CPU time.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = peak_of(process.pid, peak)
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    busy = machine.busy_share()
    process.returncode = os.waitstatus_to_exitcode(status)
    text = output.read_text(errors="replace")
    if process.returncode != 0 or " sent" not in text:
        raise RuntimeError(f"newsletter send failed ({process.returncode}):\n{text}")
    return elapsed, peak, usage.ru_utime + usage.ru_stime, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="an existing PostgreSQL database to create the bench's own database from",
    )
    parser.add_argument("--concurrency", type=int, help="provider.concurrency for every send")
    parser.add_argument("--profile", help="run this provider's send under cProfile")
    parser.add_argument(
        "--code",
        type=Path,
        help="run the command from this checkout instead (`git archive` of a baseline), "
        "for before-and-after figures in one run",
    )
    arguments = parser.parse_args()
    code = arguments.code or "this checkout"
    print(f"{arguments.subscribers:,} readers, {os.cpu_count()} cores; the command from {code}")
    for database in arguments.databases.split(","):
        for provider in arguments.providers.split(","):
            one_send(arguments, database, provider)


def one_send(arguments: argparse.Namespace, database: str, provider: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url = fresh_database(arguments.database_url) if database == "postgresql" else None
        try:
            config_path = make_project(root, url)
            config = load_config(config_path)
            engine = db.make_engine(config.database.url)
            db.upgrade(engine)
            collect(config, engine)
            add_readers(engine, arguments.subscribers)
            if engine.dialect.name == "sqlite":
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            with counting_fake(root) as fake:
                configure(config_path, provider, fake, arguments.concurrency)
                profile_to = root / "send.prof" if arguments.profile == provider else None
                elapsed, peak, cpu, busy = run_send(config_path, profile_to, arguments.code)
                received = fake_counts(fake)
            report(database, provider, arguments.subscribers, elapsed, peak, cpu, busy, received)
            if profile_to is not None:
                import pstats

                stats = pstats.Stats(str(profile_to))
                stats.sort_stats("cumulative").print_stats(40)
                stats.sort_stats("tottime").print_stats(30)
        finally:
            if url is not None:
                drop_database(arguments.database_url, url)


def report(
    database: str,
    provider: str,
    recipients: int,
    elapsed: float,
    peak: float,
    cpu: float,
    busy: float,
    received: dict[str, object],
) -> None:
    exactly_once = received["distinct"] == recipients and received["more_than_once"] == 0
    print(
        f"{database:>10} {provider:>8}: {recipients:,} in {elapsed:.1f} s = "
        f"{recipients / elapsed:,.0f} recipients/s end to end; peak RSS {peak:.0f} MB; "
        f"the command used {cpu:.1f} CPU s ({recipients / cpu:,.0f} recipients per CPU s), "
        f"the machine was {busy:.0%} busy; the fake received {received['received']:,} "
        f"({received['distinct']:,} distinct) in {received['requests']:,} requests "
        f"{received['per_request']}; "
        + ("every recipient exactly once" if exactly_once else "NOT EXACTLY ONCE"),
        flush=True,
    )
    if not exactly_once:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
