"""Benchmark: `newsletter subscribers import` of 200,000 rows, then `subscribers export`.

Generates a realistic sheet (German names, some IDN domains, repeated addresses in other
spellings, invalid addresses, unknown topics, addresses on the suppression list, some of
them under a hash of the spelling releases before 0012 used), imports it into a fresh
SQLite file and into a schema of its own on PostgreSQL, each time as an operator runs it:
the whole command as a process, start to exit. Prints rows a second, wall time and the
peak memory of the process tree beside the targets, then the export's time and peak
memory at 20,000 and 200,000 rows (streaming: both about equal), and one `erase`.

    .venv/bin/python bench/import.py [--rows 200000] [--engines sqlite,postgresql]

Targets: >= 20,000 rows a second on each engine, peak RSS <= 250 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml

from pipeline import db
from subscribers import suppression
from subscribers.addresses import legacy_spelling, normalise_address
from subscribers.schema import subscribers, suppressions

REPO = Path(__file__).resolve().parents[1]
NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))
POSTGRES_URL = os.environ.get(
    "NEWSLETTER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGET_ROWS_PER_S = 20_000
TARGET_PEAK_MB = 250

FIRST_NAMES = [
    "Anna",
    "Jürgen",
    "Sören",
    "Björn",
    "Jörg",
    "Käthe",
    "Müjde",
    "Özlem",
    "Hans",
    "Uwe",
    "Ute",
    "Maria",
    "Elisabeth",
    "Lukas",
    "Leonie",
    "Mia",
    "Emma",
    "Noah",
    "Paul",
    "Jonas",
    "Ben",
    "Finn",
    "Felix",
    "Lena",
    "Marie",
    "Sophie",
    "Hannah",
    "Lea",
    "Jana",
    "Kai",
    "Grete",
    "Thorsten",
    "Dörte",
    "Malte",
    "Gül",
    "Mehmet",
    "Agnieszka",
    "Dragan",
    "Ilse",
    "Günther",
    "Renée",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Köhler",
    "Groß",
    "Weiß",
    "Jäger",
    "Yılmaz",
    "Kowalski",
    "Öztürk",
    "Nowak",
    "Blümel",
    "Straßer",
    "Fuß",
]
DOMAINS = (
    ["gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de", "mailbox.org", "freenet.de"]
    + [f"stadtteil-{n}.de" for n in range(40)]
    + [f"quartier{n}.org" for n in range(40)]
    + ["bücherei-quartier.de", "straße-beispiel.de", "müller-bau.de", "grün-netzwerk.de"]
    + ["quartiersbüro.de", "kulturbüro-bernburg.de", "wohnen-öko.de", "preße-netzwerk.de"]
)
TOPICS = ("netzwerk", "veranstaltungen", "partner")
INVALID = ("kein-at-zeichen", "doppelt@@example.org", "leer@", "@ohne-name.de", "a b@c.de")


@dataclass
class Sheet:
    path: Path
    rows: int
    suppressed: list[str]
    """Addresses to list before the import; every fourth under its legacy hash."""


def local_part(first: str, last: str, number: int) -> str:
    ascii_first = first.translate(str.maketrans("äöüßıÄÖÜ", "aousiAOU"))
    ascii_last = last.translate(str.maketrans("äöüßıÄÖÜ", "aousiAOU"))
    shape = number % 4
    if shape == 0:
        return f"{ascii_first}.{ascii_last}{number}"
    if shape == 1:
        return f"{ascii_first[0]}.{ascii_last}{number}"
    if shape == 2:
        return f"{ascii_last}.{number}"
    return f"{ascii_first}{number}"


def write_sheet(path: Path, rows: int, seed: int = 15) -> Sheet:
    """About 1% invalid, 1% unknown topics, 2% repeats, 1% suppressed, 1% IDN domains."""
    rng = random.Random(seed)
    written: list[str] = []
    suppressed: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("email,name,locale,topics,consent_at\n")
        for number in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            domain = rng.choice(DOMAINS)
            address = f"{local_part(first, last, number)}@{domain}"
            draw = rng.random()
            if draw < 0.01:
                address = rng.choice(INVALID)
            elif draw < 0.03 and written:
                address = rng.choice(written[-5000:]).upper()
            elif draw < 0.04:
                suppressed.append(address)
            written.append(address)
            topics = ";".join(rng.sample(TOPICS, rng.randint(0, 3)))
            if 0.04 <= draw < 0.05:
                topics = "kochen"
            locale = "en" if rng.random() < 0.1 else "de"
            consent = (
                "" if rng.random() < 0.3 else f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
            )
            name = f"{first} {last}" if rng.random() < 0.9 else ""
            if "," in name:
                name = f'"{name}"'
            handle.write(f"{address},{name},{locale},{topics},{consent}\n")
    return Sheet(path, rows, suppressed)


class PeakMemory:
    """The largest sum of peak RSS (VmHWM) over a process and all its descendants.

    Each process's own high-water mark, so a child's copy of the bench's memory made by
    fork does not count, and a worker's peak counts even if it came and went between two
    samples.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    todo += [int(child) for child in task.read_text().split()]
                except OSError:
                    continue
        return found

    def _watch(self) -> None:
        while not self._stop.is_set():
            for pid in self._tree():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[pid] = max(self.peaks.get(pid, 0), int(line.split()[1]))
            self._stop.wait(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.peaks.values()) / 1024


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    """User and system time of the command and its children (not the database server's)."""
    peak_mb: float
    stdout: str
    stderr: str


def run_command(project: Path, *args: str) -> Run:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment["NEWSLETTER_SECRET_KEY"] = "bench-secret-key-of-the-import-bench-0123456789"
    started, cpu_before = time.perf_counter(), os.times()
    process = subprocess.Popen(
        [NEWSLETTER, *args, "--config", str(project / "config.yaml")],
        cwd=project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = PeakMemory(process.pid)
    stdout, stderr = process.communicate()
    seconds, cpu_after = time.perf_counter() - started, os.times()
    peak = memory.stop()
    if process.returncode not in (0, 1):
        raise SystemExit(f"newsletter {' '.join(args)} exited {process.returncode}:\n{stderr}")
    cpu = (
        cpu_after.children_user
        + cpu_after.children_system
        - cpu_before.children_user
        - cpu_before.children_system
    )
    return Run(seconds, cpu, peak, stdout, stderr)


def make_project(root: Path, url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw["database"]["url"] = url
    (root / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return root


def prepare_store(url: str, sheet: Sheet) -> None:
    """The schema, and the sheet's suppressed addresses listed (some under old hashes)."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.begin() as connection:
        key = suppression.salt(connection).encode()
        entries = []
        for number, address in enumerate(sheet.suppressed):
            normal = normalise_address(address)
            spelling = legacy_spelling(normal) if number % 4 == 0 else normal
            digest = hmac.new(key, spelling.encode(), hashlib.sha256).hexdigest()
            entries.append({"email_hash": digest, "reason": "erased", "at": datetime.now(UTC)})
        unique = {entry["email_hash"]: entry for entry in entries}
        connection.execute(sa.insert(suppressions), list(unique.values()))
    engine.dispose()


def count_subscribers(url: str) -> int:
    engine = db.make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar()
    engine.dispose()
    return int(count or 0)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def bench_engine(label: str, url: str, project: Path, sheet: Sheet) -> None:
    prepare_store(url, sheet)
    imported = run_command(
        project, "subscribers", "import", str(sheet.path), "--apply", "--consent-given-by", "bench"
    )
    rate = sheet.rows / imported.seconds
    summary = " ".join(imported.stdout.split())
    print(f"{label} import: {summary}")
    print(
        f"  {imported.seconds:.1f} s wall, {rate:,.0f} rows/s (target >= {TARGET_ROWS_PER_S:,}: "
        f"{verdict(rate >= TARGET_ROWS_PER_S)}), CPU {imported.cpu_seconds:.1f} s "
        f"({sheet.rows / imported.cpu_seconds:,.0f} rows per CPU-second), "
        f"peak RSS {imported.peak_mb:.0f} MB "
        f"(target <= {TARGET_PEAK_MB}: {verdict(imported.peak_mb <= TARGET_PEAK_MB)}); "
        f"{len(imported.stderr.splitlines())} refusal line(s) on stderr; "
        f"{count_subscribers(url):,} subscribers stored"
    )
    exported = run_command(project, "subscribers", "export", "--out", str(project / "out.csv"))
    lines = sum(1 for _ in (project / "out.csv").open(encoding="utf-8")) - 1
    print(
        f"{label} export of {lines:,} rows: {exported.seconds:.1f} s wall, "
        f"CPU {exported.cpu_seconds:.1f} s, "
        f"peak RSS {exported.peak_mb:.0f} MB"
    )
    victim = next(
        line.split(",")[0] for line in (project / "out.csv").open(encoding="utf-8") if "@" in line
    )
    erased = run_command(project, "subscribers", "erase", victim)
    print(
        f"{label} erase of one address among {lines:,}: {erased.seconds:.2f} s wall; "
        f"{count_subscribers(url):,} left"
    )


def postgres_schema_url() -> tuple[str, sa.Engine, str]:
    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), admin, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--export-rows", type=int, default=20_000, help="the smaller export")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {args.rows:,} rows; targets per engine: ")
    print(f"  >= {TARGET_ROWS_PER_S:,} rows/s, peak RSS <= {TARGET_PEAK_MB} MB")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sheet = write_sheet(root / "subscribers.csv", args.rows)
        small = write_sheet(root / "small.csv", args.export_rows, seed=18)
        for engine_name in args.engines.split(","):
            if engine_name == "sqlite":
                for label, chosen in (("SQLite", sheet), ("SQLite (small)", small)):
                    url = f"sqlite:///{root / label.replace(' ', '_')}.db"
                    project = make_project(root / label.replace(" ", "_"), url)
                    bench_engine(f"{label}, {chosen.rows:,} rows", url, project, chosen)
                    shutil.rmtree(project)
            else:
                for label, chosen in (("PostgreSQL", sheet), ("PostgreSQL (small)", small)):
                    url, admin, schema = postgres_schema_url()
                    try:
                        project = make_project(root / label.replace(" ", "_"), url)
                        bench_engine(f"{label}, {chosen.rows:,} rows", url, project, chosen)
                    finally:
                        with admin.connect() as connection:
                            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                        admin.dispose()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
