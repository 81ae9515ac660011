"""The desk served by a real uvicorn over the demo project, with one editor listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from pipeline.collect import collect
from pipeline.db import items
from pipeline.web.desk.pages import SESSION_COOKIE
from pipeline.web.desk.sessions import start_session
from tests.conftest import Project
from tests.web.browser import Page
from tests.web.conftest import SECRET_KEY, Site, csrf_of, make_site

EDITOR = "redaktion@netzwerk-quartier.example.org"


def _desk(project: Project, require_approval: bool) -> Iterator[Site]:
    def change(raw: dict[str, object]) -> None:
        raw["editors"] = [EDITOR]
        raw["issue"]["require_approval"] = require_approval  # type: ignore[index]

    project.edit_config(change)
    for site in make_site(project, webhook_secrets={}):
        collect(site.config, site.engine)
        yield site


@pytest.fixture
def desk(project: Project) -> Iterator[Site]:
    yield from _desk(project, require_approval=False)


@pytest.fixture
def approval_desk(project: Project) -> Iterator[Site]:
    """A desk whose issues hold only approved items."""
    yield from _desk(project, require_approval=True)


def magic_link(site: Site, client: httpx.Client, address: str = EDITOR, count: int = 1) -> str:
    """Ask for a sign-in link as an editor would and read it from the mail."""
    form = client.get("/desk/sign-in")
    answer = client.post("/desk/sign-in", data={"csrf": csrf_of(form.text), "email": address})
    assert answer.status_code == 303
    mail = site.wait_for_mail(address, count)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"https?://\S+/desk/sign-in/\S+", text)
    assert found, text
    return site.local(found.group(0))


def use_link(client: httpx.Client, link: str) -> httpx.Response:
    """Open the link and press its button."""
    opened = client.get(link)
    assert opened.status_code == 200, opened.text
    return client.post(link, data={"csrf": csrf_of(opened.text)})


@contextmanager
def signed_in(site: Site) -> Iterator[httpx.Client]:
    """A client with a desk session, got through the mailed link.

    The cookie is Secure (the demo's base_url is https); the test server speaks http, so
    the cookie is handed on by hand, as a browser on https would send it.
    """
    with site.client() as client:
        answer = use_link(client, magic_link(site, client))
        assert answer.status_code == 303, answer.text
        client.cookies.set(SESSION_COOKIE, answer.cookies[SESSION_COOKIE])
        yield client


def sign_in_browser(page: Page, site: Site) -> None:
    """Give the browser an editor's desk session, as signing in would."""
    page.call(
        "Network.setCookie",
        name=SESSION_COOKIE,
        value=session_cookie(site),
        url=f"{site.url}/desk",
        path="/desk",
        httpOnly=True,
    )


def session_cookie(site: Site, editor: str = EDITOR) -> str:
    """A session cookie as signing in would set it, without the mail (for browser tests)."""
    return start_session(site.engine, SECRET_KEY, editor, "test browser", now())


def desk_csrf(client: httpx.Client) -> str:
    return csrf_of(client.get("/desk").text)


def item_state(site: Site, item_id: int) -> str:
    with site.engine.connect() as connection:
        return str(
            connection.execute(sa.select(items.c.state).where(items.c.id == item_id)).scalar_one()
        )


def item_id(site: Site, key: str) -> int:
    with site.engine.connect() as connection:
        return int(connection.execute(sa.select(items.c.id).where(items.c.key == key)).scalar_one())


def now() -> datetime:
    return datetime.now(UTC)
