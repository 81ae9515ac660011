"""`preflight --links` asks a loopback server about each link and warns about broken ones."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.config import Config
from pipeline.issue.linkcheck import check_links
from pipeline.render.issue import render_issue
from tests.render.conftest import make_issue, make_item


class Site(BaseHTTPRequestHandler):
    """/ok answers 200, /gone 404, /broken 500, /no-head refuses HEAD but serves GET."""

    def do_HEAD(self) -> None:
        status = {"/ok": 200, "/gone": 404, "/broken": 500, "/no-head": 405}.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200 if self.path in ("/ok", "/no-head") else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_broken_links_are_warnings_naming_their_item(config: Config, server: str) -> None:
    content = make_issue(
        make_item(1, link=f"{server}/ok"),
        make_item(2, link=f"{server}/gone"),
        make_item(3, link=f"{server}/broken"),
        make_item(4, link=f"{server}/no-head"),
        make_item(5, link="http://127.0.0.1:9/refused"),
    )
    variant = render_issue(content, site=config.site, locale="de", subject="S")
    findings = asyncio.run(check_links([variant], config, timeout_s=5))
    assert all(f.level == "warning" for f in findings)
    found = sorted(f"{f.where}: {f.message}" for f in findings)
    assert found == [
        f"content/item-2.md: link {server}/gone answers 404 Not Found",
        f"content/item-3.md: link {server}/broken answers 500 Internal Server Error",
        "content/item-5.md: link http://127.0.0.1:9/refused does not answer (ConnectError)",
    ]
