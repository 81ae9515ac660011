"""Classify figures: messages a second over the bounce fixtures, the cost of a huge one,
and a cold process (interpreter start, imports, one mailbox's worth of messages).

    .venv/bin/python bench/bounces_classify.py

A bounce run reads at most a few hundred messages every five minutes; the figure that
matters is that no single message, however large or strange, costs more than a few ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.bounces.classify import classify  # noqa: E402
from tests.bounces.fixtures import BOUNCE_ADDRESS, bounce_for, fixture_names  # noqa: E402

KEY = "bench-secret-key"
COLD_RUN = f"""
import sys, time
sys.path.insert(0, {str(REPO)!r})
from pipeline.bounces.classify import classify
from tests.bounces.fixtures import BOUNCE_ADDRESS, bounce_for, fixture_names
messages = [bounce_for(n, {KEY!r}, 7) for n in fixture_names()] * 10
for raw in messages:
    classify(raw, {KEY!r}, BOUNCE_ADDRESS)
print(len(messages))
"""


def per_message_us(raw: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        classify(raw, KEY, BOUNCE_ADDRESS)
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1e6


def main() -> None:
    fixtures = {name: bounce_for(name, KEY, 7) for name in fixture_names()}
    print(f"{'fixture':<24} {'bytes':>7} {'median µs':>10}")
    medians = []
    for name, raw in fixtures.items():
        median = per_message_us(raw, 200)
        medians.append(median)
        print(f"{name:<24} {len(raw):>7} {median:>10.0f}")
    print(f"all fixtures: {1e6 / statistics.mean(medians):,.0f} messages a second on one core")

    huge = fixtures["rfc3464-hard"].replace(b"Liebe Nachbarinnen", b"x" * 30_000_000)
    print(f"a 30 MB returned original: {per_message_us(huge, 5) / 1000:.1f} ms")
    garbage = bytes(range(256)) * 40_000
    print(f"10 MB of binary garbage: {per_message_us(garbage, 5) / 1000:.1f} ms")

    begin = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD_RUN], check=True, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - begin
    print(f"cold process, {done.stdout.strip()} messages: {elapsed * 1000:.0f} ms start to exit")


if __name__ == "__main__":
    main()
