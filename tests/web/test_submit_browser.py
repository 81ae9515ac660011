"""The submission form sent in headless Chromium against `newsletter serve`: first with
a missing field (named beside it), then corrected and received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.db import items
from tests.conftest import Project, serve_command
from tests.web.browser import chromium


@pytest.fixture
def served(project: Project) -> Iterator[str]:
    project.run("db", "upgrade")
    with serve_command(project) as (url, _process):
        yield url


def test_an_event_is_sent_in_through_the_form_in_a_real_browser(
    served: str, project: Project, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as page:
        page.call("Page.navigate", url=f"{served}/submit?lang=de")
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('form')")
        page.evaluate(
            "document.querySelector('#kind').value = 'event';"
            "document.querySelector('#title').value = 'Quartiersspaziergang im Hechtviertel';"
            "document.querySelector('#summary').value = 'Wir zeigen die neuen Höfe.';"
            "document.querySelector('#topic-veranstaltungen').click();"
            "document.querySelector('#event_start').value = '2027-03-28T15:00';"
            "document.querySelector('button[type=submit]').click();"
        )
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('.error')")
        invalid = page.evaluate(
            "[...document.querySelectorAll('[aria-invalid=true]')].map(e => e.id).join(',')"
        )
        assert "event_location" in invalid.split(","), invalid
        assert page.evaluate("document.querySelector('#title').value") == (
            "Quartiersspaziergang im Hechtviertel"
        )
        page.evaluate(
            "document.querySelector('#event_location').value = 'Treffpunkt Bischofsplatz';"
            "document.querySelector('button[type=submit]').click();"
        )
        page.wait_for("document.readyState === 'complete' && !document.querySelector('form')")
        heading = page.evaluate("document.querySelector('h1').textContent")
    assert heading == "Vielen Dank für Ihre Nachricht"
    engine = project.engine()
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(items.c.state, items.c.kind, items.c.event_location, items.c.topics).where(
                items.c.key.startswith("submit:")
            )
        ).one()
    engine.dispose()
    assert tuple(row) == ("submitted", "event", "Treffpunkt Bischofsplatz", ["veranstaltungen"])
    assert not list(project.outbox.glob("*.eml"))
