"""A reader clicks a link of a sent mail in a real browser, and the report counts it; a
link scanner's sweep of the same mail is counted apart, as machine clicks.

Everything as it runs for real: `newsletter send` into the outbox, `newsletter serve`,
headless Chromium opening the mail's HTML and clicking, `newsletter report --json`.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import Project, serve_command
from tests.web.browser import chromium

READER = "leserin@example.org"
TITLE = "Hoffest bei der Genossenschaft"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
"""What a scanner that passes itself off as a browser sends (Safe Links does)."""


class _Story(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>Die ganze Geschichte</title><h1>Hoffest</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def destination() -> Iterator[str]:
    """The partner's website, where the item's link leads."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Story)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hoffest"
    finally:
        server.shutdown()


@pytest.fixture
def sent(project: Project, destination: str) -> Project:
    """An issue sent to one reader, whose news item links to `destination`."""
    # A reader's click right after the send is a reader's here: the scanner rule of
    # "too soon after the batch" has its own tests (tests/report/test_machine.py).
    project.edit_config(lambda raw: raw.update(analytics={"scanner_window_s": 0}))
    project.run("db", "upgrade")
    project.run("subscribers", "add", READER, "--consent-given-by", "test")
    project.run(
        "queue", "add", "--title", TITLE, "--summary", "Musik und Kuchen im Hof.",
        "--link", destination, "--date", "2026-12-01",
    )  # fmt: skip
    project.run("send")
    return project


def _mail_html(project: Project) -> str:
    for path in project.outbox.glob("issue*.eml"):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if READER in str(mail["To"]):
            return str(mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
    raise AssertionError("no issue mail for the reader in the outbox")


def _report(project: Project) -> dict[str, object]:
    """The report once `serve` has stopped: it writes the clicks it held as it stops."""
    return dict(json.loads(project.run("report", "--json").stdout))


def test_a_readers_click_lands_on_the_story_and_the_report_counts_it(
    sent: Project, destination: str, tmp_path: Path
) -> None:
    site_url = sent.config().site.url
    page = _mail_html(sent)
    tracked = re.findall(rf'href="({re.escape(site_url)}/r/[A-Za-z0-9_-]+\.\d+)"', page)
    assert tracked and destination not in page  # the mail carries tracked links only
    with serve_command(sent) as (url, _process):
        # The mail as the reader's mail program shows it, its links on this server.
        mail = tmp_path / "mail.html"
        mail.write_text(page.replace(site_url, url), encoding="utf-8")
        with chromium(tmp_path / "profile") as browser:
            browser.call("Page.navigate", url=mail.as_uri())
            browser.wait_for("document.readyState === 'complete'")
            browser.evaluate(
                "Array.from(document.querySelectorAll('a'))"
                f".find(a => a.textContent.trim() === {TITLE!r}).click()"
            )
            browser.wait_for(f"location.href === {destination!r}")
            browser.wait_for("document.readyState === 'complete'")
            landed = browser.evaluate("document.title")
    assert landed == "Die ganze Geschichte"
    report = _report(sent)
    link = next(entry for entry in report["links"] if entry["url"] == destination)  # type: ignore[union-attr]
    assert (link["item"], link["clicks"], link["machine_clicks"]) == (TITLE, 1, 0)
    assert (report["clicks"], report["machine_clicks"]) == (1, 0)


def test_a_scanners_sweep_of_the_mail_is_counted_as_machine_clicks(sent: Project) -> None:
    site_url = sent.config().site.url
    page = _mail_html(sent)
    tracked = sorted(set(re.findall(rf'href="{re.escape(site_url)}(/r/[^"]+)"', page)))
    assert len(tracked) >= 3
    with (
        serve_command(sent) as (url, _process),
        httpx.Client(base_url=url, headers={"User-Agent": BROWSER}, timeout=30) as scanner,
    ):
        started = time.monotonic()
        assert scanner.head(tracked[0]).status_code == 302
        answers = [scanner.get(path).status_code for path in tracked]
        assert time.monotonic() - started < 2  # every link within two seconds
    assert set(answers) == {302}
    report = _report(sent)
    assert report["clicks"] == 0
    assert report["machine_clicks"] == len(tracked) + 1
