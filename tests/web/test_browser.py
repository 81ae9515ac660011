"""The sign-up form submitted once in headless Chromium, against `newsletter serve`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from subscribers import schema, sign_ups, store
from tests.conftest import Project, serve_command
from tests.web.browser import chromium


@pytest.fixture
def served(project: Project) -> Iterator[str]:
    project.run("db", "upgrade")
    with serve_command(project) as (url, _process):
        yield url


def _nonce_of(connection: sa.Connection, subscriber_id: int) -> str:
    return str(
        connection.execute(
            sa.select(schema.sign_ups.c.nonce).where(
                schema.sign_ups.c.subscriber_id == subscriber_id
            )
        ).scalar_one()
    )


def test_reader_signs_up_in_a_real_browser(served: str, project: Project, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        page.call("Page.navigate", url=f"{served}/subscribe?lang=de")
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('form')")
        page.evaluate(
            "document.querySelector('#email').value = 'browser@example.org';"
            "document.querySelector('#name').value = 'Bea';"
            "document.querySelector('#topic-partner').click();"
            "document.querySelector('#consent').click();"
            "document.querySelector('button[type=submit]').click();"
        )
        page.wait_for("location.pathname === '/subscribe/thanks'")
        page.wait_for("document.readyState === 'complete'")
        heading = page.evaluate("document.querySelector('h1').textContent")
    assert heading == "Bitte sehen Sie in Ihr Postfach"
    engine = project.engine()
    with engine.connect() as connection:
        found = store.find(connection, "browser@example.org")
        assert found is not None
        waiting = sign_ups.waiting_name(connection, found.id, _nonce_of(connection, found.id))
    engine.dispose()
    # The typed name waits with the sign-up until the reader confirms it on the button's page.
    assert found.state == "pending" and found.name == "" and waiting == "Bea"
    assert sorted(found.topics) == ["netzwerk", "veranstaltungen"]
    deadline = time.monotonic() + 20
    while not list(project.outbox.glob("confirm.*.eml")):
        assert time.monotonic() < deadline, "no confirmation mail in the outbox"
        time.sleep(0.1)
