"""Benchmark: collect 500 feeds of 20 entries from a loopback server, then again (all 304).

Prints the first collect's wall time, the second's, the CPU time each used (which does not
depend on how busy the machine is), and peak memory (the collecting process and its largest
child).
The feed server runs in a process of its own and competes for the same cores.
Targets: first < 10 s, second < 2 s, peak < 200 MB.

    .venv/bin/python bench/collect.py [--feeds 500] [--entries 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from pipeline import db
from pipeline.collect import collect
from pipeline.config import load_config

PARAGRAPH = (
    "Die Vernetzungsinitiative lädt Kommunen, Wohnungsunternehmen und Kreative ein, "
    "gemeinsam über die Zukunft der Innenstädte zu sprechen. "
)


def feed_body(number: int, entries: int) -> bytes:
    """About 33 KB of RSS 2.0 with HTML summaries, like a typical WordPress feed."""
    start = datetime(2026, 11, 20, tzinfo=UTC)
    items = []
    for entry in range(entries):
        when = format_datetime(start - timedelta(hours=entry))
        html = (
            f"<p>{PARAGRAPH * 9}</p><p><a href='/beitrag/{entry}'>Weiterlesen</a> "
            f"<img src='/img/{entry}.jpg' alt='Bild {entry}'></p>"
        )
        escaped = html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        items.append(
            f"<item><title>Beitrag {entry} aus Feed {number}</title>"
            f"<link>https://feed{number}.example.org/beitrag/{entry}</link>"
            f"<guid isPermaLink='false'>feed{number}-{entry}</guid><pubDate>{when}</pubDate>"
            f"<category>Netzwerk</category><description>{escaped}</description></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Feed {number}</title><link>https://feed{number}.example.org/</link>"
        f"<description>Bench</description>{''.join(items)}</channel></rss>"
    ).encode()


def serve(port_queue: multiprocessing.Queue[int], feeds: int, entries: int) -> None:
    bodies = {f"/feed/{n}.xml": feed_body(n, entries) for n in range(feeds)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def write_config(root: Path, port: int, feeds: int) -> Path:
    config = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text("utf-8"))
    config["database"] = {"url": "sqlite:///bench.db"}
    config["sources"] = {
        "content_dir": "content",
        "feeds": [
            {"name": f"Feed {n}", "url": f"http://127.0.0.1:{port}/feed/{n}.xml", "kind": "news"}
            for n in range(feeds)
        ],
    }
    config["collect"] = {"max_age_days": None}
    (root / "content").mkdir()
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(ports, args.feeds, args.entries), daemon=True
    )
    server.start()
    port = ports.get(timeout=60)
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = load_config(write_config(Path(folder), port, args.feeds))
            engine = db.make_engine(config.database.url)
            db.upgrade(engine)
            print(
                f"{args.feeds} feeds x {args.entries} entries, about "
                f"{len(feed_body(0, args.entries)) // 1000} KB each, "
                f"collect.concurrency {config.collect.concurrency}"
            )
            for label in ("first collect", "second collect (all 304)"):
                started, cpu_before = time.perf_counter(), os.times()
                report = collect(config, engine)
                elapsed, cpu_after = time.perf_counter() - started, os.times()
                new = sum(source.counts.new for source in report.sources)
                failed = sum(1 for source in report.sources if source.errors)
                own = cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system
                workers = max(
                    0.0,
                    cpu_after.children_user
                    + cpu_after.children_system
                    - cpu_before.children_user
                    - cpu_before.children_system,
                )
                print(
                    f"{label}: {elapsed:.2f} s wall, CPU {own:.2f} s collecting process + "
                    f"{workers:.2f} s parse workers; {new} new items, {failed} failed sources"
                )
    finally:
        server.terminate()
        server.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Children that have ended: the parse workers and the server (which holds every body).
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MB collecting process, {children:.0f} MB largest child")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
