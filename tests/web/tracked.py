"""Issues with tracked links written straight into the store, as a build leaves them, and
the app on a real uvicorn with its lifespan on: the click recorder writes on shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import uvicorn

from pipeline import db
from pipeline.config import Config
from pipeline.tokens import ClickTokenMaker
from pipeline.web.app import create_app

SECRET_KEY = "test-secret-key-for-the-tracked-links"
READER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
"""A reader's browser."""
SCANNER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
"""A link scanner that passes itself off as a browser, as Safe Links does."""


def add_issue(engine: sa.Engine, number: int, variants: dict[str, list[str]]) -> int:
    """An issue with its variants (numbered 1.. in the order of their keys) and each
    variant's links at positions 1..; returns the issue's id."""
    with engine.begin() as connection:
        issue_id = connection.execute(
            db.issues.insert().values(
                number=number, subject=f"Ausgabe {number}", state="sent", created_at=db.now()
            )
        ).inserted_primary_key[0]
        for variant_no, (variant, urls) in enumerate(sorted(variants.items()), start=1):
            connection.execute(
                db.issue_variants.insert().values(
                    issue_id=issue_id, variant=variant, subject="Ausgabe", html="", text=""
                )
            )
            connection.execute(
                db.issue_links.insert(),
                [
                    {
                        "issue_id": issue_id,
                        "variant_no": variant_no,
                        "variant": variant,
                        "position": position,
                        "url": url,
                        "kind": "link",
                    }
                    for position, url in enumerate(urls, start=1)
                ],
            )
    return int(issue_id)


def link_id(engine: sa.Engine, issue_id: int, variant_no: int, position: int) -> int:
    links = db.issue_links.c
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(links.id).where(
                    links.issue_id == issue_id,
                    links.variant_no == variant_no,
                    links.position == position,
                )
            ).scalar_one()
        )


def mail_token(
    issue_id: int, variant_no: int, *, minutes_ago: int = 10, subscriber_id: int | None = None
) -> str:
    """One mail's click token, as compose makes it, for a batch `minutes_ago` minutes back."""
    minute = int(time.time() // 60) - minutes_ago
    return ClickTokenMaker(SECRET_KEY)(issue_id, variant_no, minute, subscriber_id)


@dataclass(frozen=True)
class Counted:
    link_id: int | None
    machine: str | None
    subscriber_id: int | None
    at: datetime


def clicks_in(engine: sa.Engine) -> list[Counted]:
    c = db.clicks.c
    query = sa.select(c.link_id, c.machine, c.subscriber_id, c.clicked_at).order_by(c.id)
    with engine.connect() as connection:
        return [Counted(*row) for row in connection.execute(query)]


def opens_in(engine: sa.Engine) -> list[Counted]:
    o = db.opens.c
    query = sa.select(sa.null(), o.machine, o.subscriber_id, o.opened_at).order_by(o.id)
    with engine.connect() as connection:
        return [Counted(*row) for row in connection.execute(query)]


class LiveApp:
    """`create_app` on uvicorn, lifespan and all, on a free loopback port."""

    def __init__(self, config: Config, engine: sa.Engine) -> None:
        app = create_app(config, engine, SECRET_KEY, webhook_secrets={})
        self.context = app.state.context
        self._server = uvicorn.Server(
            uvicorn.Config(  # type: ignore[arg-type]
                app, host="127.0.0.1", port=0, log_level="warning", proxy_headers=False
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "no uvicorn"
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Shut down as `serve` does on SIGTERM: the lifespan's end writes what is held."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "uvicorn did not stop"


def live_app(config: Config, engine: sa.Engine) -> Iterator[LiveApp]:
    app = LiveApp(config, engine)
    try:
        yield app
    finally:
        app.stop()
