"""Benchmark: parsing alone, on one core, feedparser against the fast path, on the bench's feeds.

The feeds are bench/collect.py's (RSS 2.0 with HTML summaries, about 33 KB for 20 entries).
"parser" is the parse call alone (`feedparser.parse` / `fast_feed.read_entries`);
"with normalising" adds what a parse worker does after it (items, sanitising), i.e.
`parse_with_feedparser` / `parse_feed`. Prints items per second and milliseconds a feed.

    .venv/bin/python bench/parse.py [--feeds 200] [--entries 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.collect import feed_body  # noqa: E402
from pipeline.collect.fast_feed import read_entries  # noqa: E402
from pipeline.collect.normalize import FeedSource, parse_feed, parse_with_feedparser  # noqa: E402

HEADERS = {
    "content-type": "application/rss+xml; charset=utf-8",
    "content-location": "http://127.0.0.1:8080/feed.xml",
}
AT = datetime(2026, 12, 1, tzinfo=UTC)


def _seconds(run: Callable[[bytes], object], bodies: list[bytes]) -> float:
    """CPU seconds for one pass over the bodies (the best of three passes)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for body in bodies:
            run(body)
        best = min(best, time.process_time() - started)
    return best


def figures(feeds: int = 200, entries: int = 20) -> dict[str, float]:
    """Items per second for each way of parsing, one core: the keys say which."""
    bodies = [feed_body(number, entries) for number in range(feeds)]
    source = FeedSource(url=HEADERS["content-location"], name="Bench", kind="news")
    if any(read_entries(body, HEADERS) is None for body in bodies):
        raise SystemExit("the fast path declined a bench feed: the figures would be feedparser's")
    runs: dict[str, Callable[[bytes], object]] = {
        "feedparser parser": lambda body: feedparser.parse(
            body, response_headers=HEADERS, sanitize_html=False, resolve_relative_uris=False
        ),
        "fast parser": lambda body: read_entries(body, HEADERS),
        "feedparser with normalising": lambda body: parse_with_feedparser(
            body, HEADERS, HEADERS["content-location"], source, AT
        ),
        "fast with normalising": lambda body: parse_feed(
            body, HEADERS, HEADERS["content-location"], source, AT
        ),
    }
    return {name: feeds * entries / _seconds(run, bodies) for name, run in runs.items()}


def report(feeds: int = 200, entries: int = 20) -> list[str]:
    """The figures as lines of text, for this script and bench/collect.py."""
    results = figures(feeds, entries)
    lines = [f"parsing alone, one core, {feeds} feeds x {entries} entries (CPU time, best of 3):"]
    for name, per_second in results.items():
        lines.append(
            f"  {name:28} {per_second:9,.0f} items/s  {1000 * entries / per_second:6.2f} ms a feed"
        )
    for stage in ("parser", "with normalising"):
        ratio = results[f"fast {stage}"] / results[f"feedparser {stage}"]
        lines.append(f"  fast path / feedparser, {stage}: {ratio:.1f}x")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    print("\n".join(report(args.feeds, args.entries)))


if __name__ == "__main__":
    main()
