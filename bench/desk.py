"""How long the editors' desk takes to answer, on a real uvicorn over SQLite.

    PYTHONPATH=. .venv/bin/python bench/desk.py [ITEMS] [READERS]

Queues ITEMS extra items (default 200) beside the demo content and adds READERS active
subscribers (default 1000), then times each page several times and prints the median.
The issue page renders every variant the readers need and runs preflight on them.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from pipeline import db
from pipeline.collect import collect
from pipeline.collect.item import CollectedItem
from pipeline.config import load_config
from pipeline.queue.store import upsert
from pipeline.web.app import create_app
from pipeline.web.desk.pages import SESSION_COOKIE
from pipeline.web.desk.sessions import start_session
from subscribers import store
from tests.web.conftest import run_server

REPO = Path(__file__).resolve().parents[1]
EDITOR = "redaktion@netzwerk-quartier.example.org"
ROUNDS = 7


def _fill(config_path: Path, items: int, readers: int) -> None:
    config = load_config(config_path)
    engine = db.make_engine(config.database.url)
    db.upgrade(engine)
    collect(config, engine)
    at = datetime.now(UTC)
    feed = [
        CollectedItem(
            key=f"feed:bench#{number}",
            source="Bench feed",
            kind="news",
            title=f"Meldung {number} aus dem Netzwerk",
            summary="Eine kurze Meldung, wie sie ein Partnerblog schreibt. " * 3,
            body_html="",
            link=f"https://example.org/meldung/{number}",
            image=None,
            image_alt=None,
            topics=("netzwerk",) if number % 2 else (),
            published_at=at - timedelta(hours=number),
            event=None,
            ready=True,
        )
        for number in range(items)
    ]
    consent = store.Consent("admin", "bench", at)
    with engine.begin() as connection:
        upsert(connection, feed, at)
        for number in range(readers):
            store.add(
                connection,
                email=f"leser{number}@example.org",
                state="active",
                consent=consent,
                locale="en" if number % 3 == 0 else "de",
                topics=["partner"] if number % 4 == 0 else [],
            )
    engine.dispose()


def main(items: int = 200, readers: int = 1000) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    try:
        shutil.copy(REPO / "config.yaml", root / "config.yaml")
        shutil.copytree(REPO / "content", root / "content")
        _fill(root / "config.yaml", items, readers)
        config = load_config(root / "config.yaml")
        engine = db.make_engine(config.database.url)
        app = create_app(config, engine, "bench-key", webhook_secrets={})
        for url in run_server(app):
            with httpx.Client(base_url=url, timeout=60) as client:
                cookie = start_session(engine, "bench-key", EDITOR, "bench", datetime.now(UTC))
                client.cookies.set(SESSION_COOKIE, cookie)
                for path in ("/desk", "/desk/items/new", "/desk/issue", "/desk/issue/preview/de"):
                    times = []
                    for _ in range(ROUNDS):
                        started = time.perf_counter()
                        assert client.get(path).status_code == 200, path
                        times.append(time.perf_counter() - started)
                    ms = sorted(t * 1000 for t in times)
                    median = statistics.median(ms)
                    print(f"{path:28} median {median:7.1f} ms (min {ms[0]:.1f}, max {ms[-1]:.1f})")
        engine.dispose()
    finally:
        shutil.rmtree(root)
    print(f"{items} extra queued items, {readers} active readers, {ROUNDS} rounds each.")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
