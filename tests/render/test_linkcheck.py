"""`preflight --links` asks a server about each link and warns about broken ones; it never
fetches a link to a non-public address, nor a link that redirects to one.

The "public" site runs on 127.0.0.2, which `NEWSLETTER_TEST_PUBLIC_NETS` (a test-only hook)
makes count as public; the "internal" server on 127.0.0.1 is the machine itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.config import Config
from pipeline.issue.linkcheck import check_links
from pipeline.render.issue import render_issue
from tests.collect.conftest import FeedServer, Route, running_server
from tests.render.conftest import make_issue, make_item

PUBLIC_HOST = "127.0.0.2"


@pytest.fixture(autouse=True)
def public_test_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_TEST_PUBLIC_NETS", f"{PUBLIC_HOST}/32")


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
    httpd = ThreadingHTTPServer((PUBLIC_HOST, 0), Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{PUBLIC_HOST}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_broken_links_are_warnings_naming_their_item(config: Config, server: str) -> None:
    content = make_issue(
        make_item(1, link=f"{server}/ok"),
        make_item(2, link=f"{server}/gone"),
        make_item(3, link=f"{server}/broken"),
        make_item(4, link=f"{server}/no-head"),
        make_item(5, link=f"http://{PUBLIC_HOST}:9/refused"),
    )
    variant = render_issue(content, site=config.site, locale="de", subject="S")
    findings = asyncio.run(check_links([variant], config, timeout_s=5))
    assert all(f.level == "warning" for f in findings)
    found = sorted(f"{f.where}: {f.message}" for f in findings)
    assert found == [
        f"content/item-2.md: link {server}/gone answers 404 Not Found",
        f"content/item-3.md: link {server}/broken answers 500 Internal Server Error",
        f"content/item-5.md: link http://{PUBLIC_HOST}:9/refused does not answer (ConnectError)",
    ]


@pytest.fixture
def internal() -> Iterator[FeedServer]:
    with running_server("127.0.0.1") as server:
        server.routes["/admin"] = Route(body=b"secret", content_type="text/plain")
        yield server


@pytest.fixture
def public() -> Iterator[FeedServer]:
    with running_server(PUBLIC_HOST) as server:
        yield server


def test_links_to_internal_addresses_are_not_fetched_and_all_read_alike(
    config: Config, internal: FeedServer, public: FeedServer
) -> None:
    """A listening port, a closed one and an unroutable address answer in the same words:
    the check tells nothing about what runs there."""
    port = internal.port
    public.routes["/to-admin"] = Route(
        status=302, headers={"Location": f"http://127.0.0.1:{port}/admin"}
    )
    links = [
        f"http://127.0.0.1:{port}/admin",  # something listens
        "http://127.0.0.1:9/admin",  # nothing listens
        "http://10.255.255.1/admin",  # nothing answers (a connection would time out)
        "http://169.254.169.254/latest/meta-data/",
        f"http://localhost:{port}/admin",
        f"http://2130706433:{port}/admin",
        f"http://[::ffff:127.0.0.1]:{port}/admin",
        f"http://[::1]:{port}/admin",
        public.url("/to-admin"),  # public, but redirects into this machine
    ]
    content = make_issue(*(make_item(n, link=url) for n, url in enumerate(links, start=1)))
    variant = render_issue(content, site=config.site, locale="de", subject="S")

    findings = asyncio.run(check_links([variant], config, timeout_s=5))

    assert sorted(f"{f.where}: {f.message}" for f in findings) == sorted(
        f"content/item-{n}.md: link {url} not checked: non-public address"
        for n, url in enumerate(links, start=1)
    )
    assert internal.seen == [], "no request may reach the internal server"
    assert [seen.path for seen in public.seen] == ["/to-admin"]
