"""Benchmark: `newsletter collect` as a process, 500 feeds of 20 entries, then again (all 304).

Each run is the command a user types, timed from start to exit: interpreter start-up,
imports, the schema check, fetching, parsing, storing and the printed report. Beside the
wall time it prints the CPU time of the command and every child it waited for (the parse
workers), and the peak memory of the whole process tree as PSS (proportional set size:
pages shared between the command and its workers count once, split between them), sampled
from /proc/<pid>/smaps_rollup every 20 ms (a read takes the memory-map lock of the process
read: sampled much more often, the command itself slows down). The load average is printed
before each run: on a machine busy with other work, wall times say little and CPU times
stay meaningful.

The feed server runs in a process of its own on 127.0.0.1 and competes for the same cores;
it answers from prepared bytes (asyncio, keep-alive, ETags), so that it costs little of them.

Then, in the same run, parsing alone on one core (bench/parse.py) and 200 feeds against
rss2email 3.14's `r2e run --no-send` (bench/rss2email.py, installed into .tools/ on first
use), unless `--only-collect`.

Targets (issue 15): first collect <= 5 s, PSS peak <= 150 MB; all 304 <= 1 s; >= 4.5x
faster than rss2email.

`--calendars` times calendars instead (issue 17): 200 .ics calendars of 20 events, a
quarter of them weekly series, in the default 90-day window (about 16,000 occurrences);
targets: first collect <= 10 s, all 304 <= 1 s. It prints the CPU time per occurrence of
the whole command and of parsing and expanding alone (one core, in this process).

    .venv/bin/python bench/collect.py [--feeds 500] [--entries 20] [--runs 1] [--newsletter PATH]
                                      [--only-collect] [--calendars [--events 20]]

`--newsletter` times another `newsletter` executable (another checkout's, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
NEWSLETTER = Path(sys.executable).parent / "newsletter"
FIRST_TARGET_S, NOT_MODIFIED_TARGET_S, PSS_TARGET_MB = 5.0, 1.0, 150.0
CALENDARS_FIRST_TARGET_S = 10.0
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


def calendar_body(number: int, events: int, weekly: bool, today: date) -> bytes:
    """A partner's calendar as Nextcloud writes it: `events` events in the next 90 days,
    or (`weekly`) as many weekly series from tomorrow without an end."""
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Nextcloud calendar v4.7.0",
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
        "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
        "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
        "END:VTIMEZONE",
    ]  # fmt: skip
    for event in range(events):
        day = today + timedelta(days=1 + (event if weekly else (event * 89) // events))
        lines += [
            "BEGIN:VEVENT",
            f"UID:event-{number}-{event}@partner{number}.example.org",
            "DTSTAMP:20250101T000000Z",
            f"DTSTART;TZID=Europe/Berlin:{day:%Y%m%d}T{17 + event % 3:02d}0000",
            f"DTEND;TZID=Europe/Berlin:{day:%Y%m%d}T{19 + event % 3:02d}0000",
            *(["RRULE:FREQ=WEEKLY"] if weekly else []),
            f"SUMMARY:Termin {event} bei Partner {number}",
            f"LOCATION:Quartierszentrum {number}\\, Musterstraße {event}\\, Wuppertal",
            f"DESCRIPTION:{PARAGRAPH * 2}",
            f"URL:https://partner{number}.example.org/termine/{event}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines).encode() + b"\r\n"


def calendar_bodies(calendars: int, events: int) -> dict[str, bytes]:
    """Path -> body: every fourth calendar's events are weekly series."""
    today = datetime.now(UTC).date()
    return {
        f"/calendar/{n}.ics": calendar_body(n, events, n % 4 == 0, today) for n in range(calendars)
    }


def _responses(
    feeds: int, entries: int, calendars: bool
) -> dict[bytes, tuple[bytes, bytes, bytes]]:
    """Path -> (ETag, the whole 200 answer, the whole 304 answer)."""
    if calendars:
        bodies, kind = calendar_bodies(feeds, entries), b"text/calendar; charset=utf-8"
    else:
        bodies = {f"/feed/{n}.xml": feed_body(n, entries) for n in range(feeds)}
        kind = b"application/rss+xml; charset=utf-8"
    prepared = {}
    for path, body in bodies.items():
        etag = f'"{path}-{len(body)}"'.encode()
        ok = (
            b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\nETag: %s\r\n\r\n" % (kind, len(body), etag)
        ) + body
        not_modified = b"HTTP/1.1 304 Not Modified\r\nETag: %s\r\n\r\n" % etag
        prepared[path.encode()] = (etag, ok, not_modified)
    return prepared


Counts = Any
"""A shared `multiprocessing.Array("l", 2)`: the 200 and the 304 answers sent."""


class _FeedProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, GET only: enough for a client that speaks it properly."""

    def __init__(self, prepared: dict[bytes, tuple[bytes, bytes, bytes]], answered: Counts) -> None:
        self.prepared = prepared
        self.answered = answered
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1]
            found = self.prepared.get(path)
            if found is None:
                self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            etag, ok, not_modified = found
            conditional = any(
                line.lower().startswith(b"if-none-match:")
                and line.split(b":", 1)[1].strip() == etag
                for line in lines[1:]
            )
            self.transport.write(not_modified if conditional else ok)
            self.answered[1 if conditional else 0] += 1


def serve(
    port_queue: multiprocessing.Queue[int],
    answered: Counts,
    feeds: int,
    entries: int,
    calendars: bool = False,
) -> None:
    prepared = _responses(feeds, entries, calendars)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _FeedProtocol(prepared, answered), "127.0.0.1", 0, backlog=1024
        )
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(run())


def write_config(root: Path, port: int, feeds: int, calendars: bool = False) -> Path:
    config = yaml.safe_load((REPO / "config.yaml").read_text("utf-8"))
    config["database"] = {"url": f"sqlite:///{root / 'bench.db'}"}
    address = f"http://127.0.0.1:{port}"
    config["sources"] = {"content_dir": str(root / "content")}
    if calendars:
        config["sources"]["calendars"] = [
            {"name": f"Partner {n}", "url": f"{address}/calendar/{n}.ics"} for n in range(feeds)
        ]
    else:
        config["sources"]["feeds"] = [
            {"name": f"Feed {n}", "url": f"{address}/feed/{n}.xml", "kind": "news"}
            for n in range(feeds)
        ]
    config["collect"] = {"max_age_days": None}
    (root / "content").mkdir()
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc/<pid>/task/<tid>/children)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
            except OSError:
                continue
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass  # gone between listing and reading
    return 0


class PssSampler(threading.Thread):
    """The largest sum of PSS over a process and its descendants, sampled until stopped."""

    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.peak_kb, self.peak_processes, self.samples = 0, 0, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            tree = _descendants(self.pid)
            total = sum(_pss_kb(pid) for pid in tree)
            if total > self.peak_kb:
                self.peak_kb, self.peak_processes = total, len(tree)
            self.samples += 1
            self.stopped.wait(self.interval_s)


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    pss_mb: float
    processes: int
    samples: int
    exit_code: int
    load: float
    """The machine's 1-minute load average when the run started."""
    stdout: str
    stderr: str


def run_collect(newsletter: Path, config: Path) -> Run:
    """`newsletter collect --config <config>` from start to exit, as a user runs it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(newsletter), "collect", "--config", str(config)], stdout=out, stderr=err
        )
        sampler = PssSampler(process.pid)
        sampler.start()
        # wait4: the rusage of the command and of every child it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stopped.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            pss_mb=sampler.peak_kb / 1024,
            processes=sampler.peak_processes,
            samples=sampler.samples,
            exit_code=process.returncode,
            load=load,
            stdout=out.read().decode(),
            stderr=err.read().decode(),
        )


def stored(database: Path) -> tuple[int, int]:
    """(items, feeds whose last fetch worked) in the bench's database."""
    with sqlite3.connect(database) as connection:
        items = connection.execute("SELECT count(*) FROM items").fetchone()[0]
        healthy = connection.execute(
            "SELECT count(*) FROM feeds WHERE consecutive_failures = 0 "
            "AND last_success_at IS NOT NULL"
        ).fetchone()[0]
    return items, healthy


def check(run: Run, label: str) -> None:
    if run.exit_code != 0:
        sys.exit(f"{label}: exit {run.exit_code}\n{run.stderr[-2000:]}")


def report(label: str, run: Run, target_s: float, pss_target_mb: float | None) -> None:
    verdict = "ok" if run.wall_s <= target_s else "MISSED"
    line = (
        f"{label:<26} {run.wall_s:6.2f} s wall (target <= {target_s:g} s: {verdict}), "
        f"CPU {run.cpu_s:5.2f} s (load {run.load:.1f}), "
        f"PSS peak {run.pss_mb:5.0f} MB over {run.processes} processes"
    )
    if pss_target_mb is not None:
        line += f" (target <= {pss_target_mb:g} MB: "
        line += ("ok" if run.pss_mb <= pss_target_mb else "MISSED") + ")"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1, help="rounds, each on a fresh database")
    parser.add_argument("--newsletter", type=Path, default=NEWSLETTER, help="the command to time")
    parser.add_argument(
        "--only-collect",
        action="store_true",
        help="leave out parsing alone and the comparison with rss2email (200 feeds)",
    )
    parser.add_argument(
        "--calendars",
        type=int,
        nargs="?",
        const=200,
        help="time this many calendars (200) instead of feeds",
    )
    parser.add_argument("--events", type=int, default=20, help="events in each calendar")
    args = parser.parse_args()
    if args.calendars:
        calendars_main(args.calendars, args.events, args.runs, args.newsletter)
        return
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    answered = multiprocessing.Array("l", 2, lock=False)
    server = multiprocessing.Process(
        target=serve, args=(ports, answered, args.feeds, args.entries), daemon=True
    )
    server.start()
    port = ports.get(timeout=120)
    print(
        f"{args.feeds} feeds x {args.entries} entries, about "
        f"{len(feed_body(0, args.entries)) // 1000} KB each, from a loopback server in its own "
        f"process; {os.cpu_count()} cores; `newsletter collect` as a process, start to exit",
        flush=True,
    )
    try:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                config = write_config(Path(folder), port, args.feeds)
                subprocess.run(
                    [str(args.newsletter), "db", "upgrade", "--config", str(config)],
                    check=True,
                    capture_output=True,
                )
                answered[0] = answered[1] = 0
                first = run_collect(args.newsletter, config)
                check(first, "first collect")
                items, healthy = stored(Path(folder) / "bench.db")
                full = answered[0]
                second = run_collect(args.newsletter, config)
                check(second, "second collect")
                not_modified = answered[1]
                report("first collect", first, FIRST_TARGET_S, PSS_TARGET_MB)
                report("second collect (all 304)", second, NOT_MODIFIED_TARGET_S, PSS_TARGET_MB)
                print(
                    f"  first: {full} answers 200, {items} items stored, {healthy} feeds "
                    f"healthy; second: {not_modified} answers 304; memory sampled "
                    f"{first.samples} and {second.samples} times",
                    flush=True,
                )
    finally:
        server.terminate()
        server.join()
    if not args.only_collect:
        # Imported here: they import this module's server and feeds.
        sys.path.insert(0, str(REPO))
        from bench import parse, rss2email

        print("\n".join(parse.report(200, args.entries)), flush=True)
        print("\n".join(rss2email.report(200, args.entries)), flush=True)


def calendars_main(calendars: int, events: int, runs: int, newsletter: Path) -> None:
    """The calendars' figures: the collect twice as a process, then parsing alone."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    answered = multiprocessing.Array("l", 2, lock=False)
    server = multiprocessing.Process(
        target=serve, args=(ports, answered, calendars, events, True), daemon=True
    )
    server.start()
    port = ports.get(timeout=120)
    bodies = calendar_bodies(calendars, events)
    size = sum(map(len, bodies.values())) // len(bodies) // 1000
    print(
        f"{calendars} calendars x {events} events (every fourth a calendar of weekly series), "
        f"about {size} KB each, 90-day window, from a loopback server in its own process; "
        f"{os.cpu_count()} cores; `newsletter collect` as a process, start to exit",
        flush=True,
    )
    try:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as folder:
                config = write_config(Path(folder), port, calendars, calendars=True)
                subprocess.run(
                    [str(newsletter), "db", "upgrade", "--config", str(config)],
                    check=True,
                    capture_output=True,
                )
                answered[0] = answered[1] = 0
                first = run_collect(newsletter, config)
                check(first, "first collect")
                occurrences, healthy = stored(Path(folder) / "bench.db")
                second = run_collect(newsletter, config)
                check(second, "second collect")
                report("first collect", first, CALENDARS_FIRST_TARGET_S, None)
                report("second collect (all 304)", second, NOT_MODIFIED_TARGET_S, None)
                print(
                    f"  first: {answered[0]} answers 200, {occurrences} occurrences stored, "
                    f"{healthy} calendars healthy; second: {answered[1]} answers 304; "
                    f"CPU per occurrence, whole command: "
                    f"{first.cpu_s / max(occurrences, 1) * 1e3:.3f} ms",
                    flush=True,
                )
    finally:
        server.terminate()
        server.join()
    print(parse_alone(bodies), flush=True)


def parse_alone(bodies: dict[str, bytes]) -> str:
    """Parsing and expanding every calendar on one core, in this process."""
    sys.path.insert(0, str(REPO))
    from pipeline.collect.calendar_source import CalendarSource
    from pipeline.collect.calendars import parse_calendar

    at = datetime.now(UTC)
    started = time.process_time()
    found = 0
    for path, body in bodies.items():
        source = CalendarSource(path, path, (), "Europe/Berlin", 90)
        found += len(parse_calendar(body, {}, "http://127.0.0.1" + path, source, at).items)
    cpu = time.process_time() - started
    return (
        f"parsing and expanding alone, one core: {cpu:.2f} s CPU for {found} occurrences of "
        f"{len(bodies)} calendars: {cpu / max(found, 1) * 1e3:.3f} ms an occurrence, "
        f"{cpu / len(bodies) * 1e3:.1f} ms a calendar"
    )


if __name__ == "__main__":
    main()
