"""Fixtures for the send tests: a project on either engine with many readers, and the
loopback mail service running in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.collect import collect
from subscribers.schema import subscribers
from tests.conftest import REPO, Project


@dataclass
class Loopback:
    url: str
    log: Path

    def faults(self, *plan: str) -> None:
        httpx.post(f"{self.url}/faults", json={"plan": list(plan)}).raise_for_status()

    def stats(self) -> dict[str, int]:
        stats: dict[str, int] = httpx.get(f"{self.url}/stats").json()
        return stats

    def received(self) -> Counter[str]:
        """How often each delivery key reached the service's inboxes."""
        if not self.log.exists():
            return Counter()
        return Counter(line for line in self.log.read_text().splitlines() if line)


def start_loopback(folder: Path) -> tuple[subprocess.Popen[bytes], Loopback]:
    port_file = folder / "loopback.port"
    log = folder / "loopback.log"
    command = [sys.executable, "-m", "tests.send.loopback_server"]
    server = subprocess.Popen(
        [*command, "--port-file", str(port_file), "--log", str(log)], cwd=REPO
    )
    deadline = time.monotonic() + 15
    while not port_file.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("the loopback mail service did not start")
        time.sleep(0.02)
    return server, Loopback(f"http://127.0.0.1:{port_file.read_text()}", log)


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[Loopback]:
    server, service = start_loopback(tmp_path)
    try:
        yield service
    finally:
        server.kill()
        server.wait()


def add_readers(engine: sa.Engine, count: int, *, invalid: int = 0) -> None:
    """`count` active readers (German and English), the first `invalid` of them on a
    domain the loopback service refuses. Inserted in chunks, so a million stays small."""
    at = db.now()
    chunk = 10_000
    with engine.begin() as connection:
        for start in range(0, count, chunk):
            connection.execute(
                sa.insert(subscribers),
                [
                    {
                        "email": f"reader{n}@{'invalid.example' if n < invalid else 'example.org'}",
                        "name": f"Leser {n}" if n % 3 else "",
                        "locale": "en" if n % 5 == 0 else "de",
                        "topics": [],
                        "state": "active",
                        "consent_at": at,
                        "consent_source": "import",
                        "consent_detail": "generated",
                        "created_at": at,
                        "updated_at": at,
                    }
                    for n in range(start, min(count, start + chunk))
                ],
            )


@pytest.fixture
def send_project(project: Project, database_url: str) -> Project:
    """The demo project on SQLite or PostgreSQL, schema current, sample content collected,
    and no readers yet (tests add their own)."""
    project.edit_config(lambda raw: raw.update(database={"url": database_url}))
    engine = project.engine()
    db.upgrade(engine)
    collect(project.config(), engine)
    engine.dispose()
    return project


def summary_of(output: str) -> dict[str, object]:
    """The JSON summary line printed last by tests/send/run_send.py."""
    summary: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return summary
