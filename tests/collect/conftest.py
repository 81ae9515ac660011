"""A real HTTP feed server on 127.0.0.1 serving every case of tests/collect/feeds/.

Each route is a `Route`: a body (or a status), headers, a delay, gzip, ETag support.
Tests may change a route between collects (an entry updated in place) and read the
requests the server saw (conditional GET headers).
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline import db
from pipeline.collect import CollectReport, collect
from tests.conftest import Project

FEEDS = Path(__file__).parent / "feeds"
RSS = "application/rss+xml; charset=utf-8"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = RSS
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    delay_s: float = 0.0
    gzip: bool = False

    @classmethod
    def feed(cls, name: str, **options: Any) -> Route:
        return cls(body=(FEEDS / name).read_bytes(), **options)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class FeedServer:
    """Serves `routes` on `host` (any 127.x address is this machine) and records each
    request, GET or HEAD, in `seen`, and the most it answered at once in `most_at_once`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.most_at_once = 0
        at_once = 0
        counting = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                nonlocal at_once
                with counting:
                    at_once += 1
                    server.most_at_once = max(server.most_at_once, at_once)
                try:
                    self._answer()
                finally:
                    with counting:
                        at_once -= 1

            def _answer(self) -> None:
                server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                body = gzip.compress(route.body) if route.gzip else route.body
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                if route.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if route.etag:
                    self.send_header("ETag", route.etag)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self.base = f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]


@contextlib.contextmanager
def running_server(host: str = "127.0.0.1") -> Iterator[FeedServer]:
    server = FeedServer(host)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with running_server() as server:
        yield server


@dataclass
class FeedProject:
    """A project with an empty content folder whose feeds are served by `feed_server`."""

    project: Project
    server: FeedServer

    def configure(self, feeds: dict[str, str], **collect_settings: Any) -> None:
        """feeds: name -> path on the server; all of kind news unless named `event…`."""

        def change(raw: dict[str, Any]) -> None:
            raw["sources"]["feeds"] = [
                {"name": name, "url": self.server.url(path), "kind": "news"}
                for name, path in feeds.items()
            ]
            raw["collect"] = {"timeout_s": 5, "max_age_days": None} | collect_settings

        self.project.edit_config(change)

    def collect(self) -> CollectReport:
        config = self.project.config()
        return collect(config, db.make_engine(config.database.url))


@pytest.fixture
def feeds(project: Project, feed_server: FeedServer) -> FeedProject:
    for path in project.content_dir.glob("*.md"):
        path.unlink()
    db.upgrade(project.engine())
    return FeedProject(project, feed_server)
