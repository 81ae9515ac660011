"""A real uvicorn serving the app on loopback, over a project with a real SQLite file."""

from __future__ import annotations

import email
import email.policy
import html
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from pipeline import db
from pipeline.config import Config
from pipeline.web.app import create_app
from subscribers import store
from tests.conftest import Project

SECRET_KEY = "test-secret-key-for-the-web-tests"


@dataclass
class Site:
    """The running app: its URL, its database and its outbox, as a tester sees them."""

    url: str
    project: Project
    config: Config
    engine: sa.Engine
    app_context: object

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def local(self, public_url: str) -> str:
        """A link from a mail (on site.base_url) pointed at this test server."""
        return self.url + public_url.removeprefix(self.config.site.url)

    def state(self, address: str) -> str | None:
        with self.engine.connect() as connection:
            found = store.find(connection, address)
        return None if found is None else found.state

    def subscriber(self, address: str) -> store.Subscriber:
        with self.engine.connect() as connection:
            found = store.find(connection, address)
        assert found is not None, f"{address} is not in the store"
        return found

    def add_active(self, address: str, **values: object) -> store.Subscriber:
        consent = store.Consent("admin", "test fixture", datetime.now(UTC))
        with self.engine.begin() as connection:
            return store.add(connection, email=address, state="active", consent=consent, **values)  # type: ignore[arg-type]

    def mails_to(self, address: str) -> list[EmailMessage]:
        found = []
        # In the order they were written: the file names are random.
        for path in sorted(self.project.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"].addresses[0].addr_spec == address:  # type: ignore[union-attr]
                found.append(message)  # type: ignore[arg-type]
        return found

    def wait_for_mail(self, address: str, count: int = 1, timeout_s: float = 20) -> EmailMessage:
        """The confirmation mail goes out after the answer: wait until it is in the outbox."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            mails = self.mails_to(address)
            if len(mails) >= count:
                return mails[-1]
            time.sleep(0.05)
        raise AssertionError(f"no mail #{count} to {address} in {self.project.outbox}")


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def post_sign_up(
    client: httpx.Client, address: str, headers: dict[str, str] | None = None, **fields: str
) -> httpx.Response:
    """Fill in and send the sign-up form as a reader does (from `headers`' client, if given)."""
    form = client.get("/subscribe", params={"lang": "de"})
    assert form.status_code == 200
    data = {
        "csrf": csrf_of(form.text),
        "email": address,
        "name": "Anna",
        "locale": "de",
        "topics": ["netzwerk", "veranstaltungen"],
        "consent": "yes",
        "website": "",
    } | fields
    return client.post("/subscribe", data=data, headers=headers, follow_redirects=True)


def sign_up(site: Site, address: str, **fields: str) -> tuple[int, str]:
    with site.client() as client:
        answer = post_sign_up(client, address, **fields)
    return answer.status_code, answer.text


def confirm_link(site: Site, address: str, count: int = 1) -> str:
    """The link of the `count`th confirmation mail to the address, pointed at this server."""
    mail = site.wait_for_mail(address, count)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(r"https://\S+/confirm/\S+", text)
    assert match, text
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert match.group(0) in html, "the HTML part carries the same link"
    return site.local(match.group(0))


def press_button(client: httpx.Client, link: str, name: str | None = None) -> httpx.Response:
    """Open a confirmation link and press the page's button, as a reader does: with the
    name field as the page fills it in, or as the reader changed it to (`name`)."""
    page = client.get(link)
    assert page.status_code == 200 and page.text.count("<button") == 1, page.text
    shown = re.search(r'<input type="text" id="name" name="name"[^>]* value="([^"]*)"', page.text)
    assert shown, "the page shows the name it will keep"
    typed = html.unescape(shown.group(1)) if name is None else name
    return client.post(link, data={"csrf": csrf_of(page.text), "name": typed})


def run_server(app: object) -> Iterator[str]:
    server = uvicorn.Server(
        # As `newsletter serve` runs it: the app, not uvicorn, reads X-Forwarded-For.
        uvicorn.Config(  # type: ignore[arg-type]
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def make_site(project: Project, **app_options: object) -> Iterator[Site]:
    config = project.config()
    engine = db.make_engine(config.database.url)
    db.upgrade(engine)
    app = create_app(config, engine, SECRET_KEY, **app_options)  # type: ignore[arg-type]
    try:
        for url in run_server(app):
            yield Site(url, project, config, engine, app.state.context)
    finally:
        engine.dispose()


@pytest.fixture
def site(project: Project) -> Iterator[Site]:
    project.edit_config(lambda raw: raw.update(subscriptions={"rate_limit": 3}))
    yield from make_site(project, webhook_secrets={})


def outbox_files(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.eml"))
