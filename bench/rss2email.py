"""Benchmark: `newsletter collect` against rss2email 3.14 on the same loopback feeds.

rss2email is installed into a throwaway venv under .tools/ (once). Both run as the user runs
them, a process timed from start to exit, on a first collect of the same feeds from
bench/collect.py's server (its feeds, its process): `r2e run --no-send` with its own config
and data file, `newsletter collect` with a fresh database (its schema made beforehand,
untimed). Prints both wall times, the ratio, the machine's cores, and the CPU time each
used (which depends less on what else the machine is doing).

    .venv/bin/python bench/rss2email.py [--feeds 200] [--entries 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.collect import serve, write_config  # noqa: E402

RSS2EMAIL = "3.14"
VENV = REPO / ".tools" / f"rss2email-{RSS2EMAIL}"
NEWSLETTER = Path(sys.executable).with_name("newsletter")


def r2e_command() -> Path:
    """rss2email's `r2e` in its own venv, installed from PyPI on first use."""
    r2e = VENV / "bin" / "r2e"
    if not r2e.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-qq"]
        subprocess.run([*pip, f"rss2email=={RSS2EMAIL}"], check=True)
    return r2e


def _r2e_config(folder: Path, port: int, feeds: int) -> Path:
    sections = [
        "[DEFAULT]\nfrom = bench@example.org\nto = readers@example.org\n"
        "email-protocol = sendmail\nsendmail = /bin/false\n"
    ]
    sections += [
        f"[feed.feed{n}]\nurl = http://127.0.0.1:{port}/feed/{n}.xml\n" for n in range(feeds)
    ]
    path = folder / "rss2email.cfg"
    path.write_text("\n".join(sections), "utf-8")
    return path


def _timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the process and the children it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({finished.returncode}):\n{finished.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu


def compare(feeds: int = 200, entries: int = 20) -> dict[str, float]:
    """Wall seconds of each command's first collect of the same feeds, and the ratio."""
    r2e = str(r2e_command())
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    answered = multiprocessing.Array("l", 2, lock=False)
    server = multiprocessing.Process(
        target=serve, args=(ports, answered, feeds, entries), daemon=True
    )
    server.start()
    try:
        port = ports.get(timeout=60)
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            (folder / "r2e").mkdir()
            (folder / "newsletter").mkdir()
            r2e_config = _r2e_config(folder / "r2e", port, feeds)
            config = write_config(folder / "newsletter", port, feeds)
            newsletter = [str(NEWSLETTER), "collect", "--config", str(config)]
            subprocess.run(
                [str(NEWSLETTER), "db", "upgrade", "--config", str(config)],
                cwd=folder / "newsletter",
                check=True,
                capture_output=True,
            )
            # Untimed warm-up: both programs' files in the page cache.
            subprocess.run([r2e, "--help"], capture_output=True, check=True)
            subprocess.run([str(NEWSLETTER), "--help"], capture_output=True, check=True)
            data = folder / "r2e" / "rss2email.json"
            r2e_run = [r2e, "-c", str(r2e_config), "-d", str(data), "run", "--no-send"]
            rss2email_s, rss2email_cpu_s = _timed(r2e_run, folder / "r2e")
            newsletter_s, newsletter_cpu_s = _timed(newsletter, folder / "newsletter")
    finally:
        server.terminate()
        server.join()
    return {
        "rss2email_s": rss2email_s,
        "newsletter_s": newsletter_s,
        "ratio": rss2email_s / newsletter_s,
        "rss2email_cpu_s": rss2email_cpu_s,
        "newsletter_cpu_s": newsletter_cpu_s,
    }


def report(feeds: int = 200, entries: int = 20) -> list[str]:
    """The comparison as lines of text, for this script and bench/collect.py."""
    result = compare(feeds, entries)
    return [
        f"against rss2email {RSS2EMAIL}, {feeds} loopback feeds x {entries} entries, "
        f"first collect, each a process start to exit:",
        f"  r2e run --no-send    {result['rss2email_s']:6.2f} s wall, "
        f"{result['rss2email_cpu_s']:6.2f} s CPU",
        f"  newsletter collect   {result['newsletter_s']:6.2f} s wall, "
        f"{result['newsletter_cpu_s']:6.2f} s CPU (with its parse workers)",
        f"  newsletter collect is {result['ratio']:.1f}x faster "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    print("\n".join(report(args.feeds, args.entries)))


if __name__ == "__main__":
    main()
