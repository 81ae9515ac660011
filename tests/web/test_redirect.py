"""`/r/<token>.<position>` and `/o/<token>.gif` over real HTTP, on SQLite and PostgreSQL.

The issues and their links are written into the store as a build leaves them, the tokens
made as compose makes them; the app runs on uvicorn with its lifespan, so stopping it
writes every click still held, and the rows are then read back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.report import machine
from pipeline.tokens import ClickTokenMaker
from subscribers import store
from tests.conftest import Project
from tests.web.tracked import (
    READER,
    SCANNER,
    LiveApp,
    add_issue,
    clicks_in,
    link_id,
    live_app,
    mail_token,
    opens_in,
)

FIRST = [
    "https://example.org/berichte/jahresauftakt",
    "https://example.org/partner/neu",
    "https://example.org/termine/werkstatt.ics",
]
SECOND = [f"https://example.org/zweite/{n}" for n in range(1, 6)]


@dataclass
class Store:
    project: Project
    engine: sa.Engine
    first: int
    """Issue 1: variant 1 (de) with FIRST's three links, variant 2 (en) with two."""
    second: int
    """Issue 2: one variant with SECOND's five links."""

    def serve(self) -> Iterator[LiveApp]:
        return live_app(self.project.config(), self.engine)


@pytest.fixture
def tracked_store(project: Project, database_url: str) -> Iterator[Store]:
    project.edit_config(lambda raw: raw.update(database={"url": database_url}))
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    first = add_issue(engine, 1, {"de": FIRST, "en": FIRST[:2]})
    second = add_issue(engine, 2, {"de": SECOND})
    yield Store(project, engine, first, second)
    engine.dispose()


def click(
    app: LiveApp, path: str, agent: str = READER, method: str = "GET", **params: str
) -> httpx.Response:
    headers = {"User-Agent": agent}
    return httpx.request(method, app.url + path, headers=headers, params=params, timeout=30)


def test_tracked_link_leads_to_its_destination_and_counts_a_readers_click(
    tracked_store: Store,
) -> None:
    token = mail_token(tracked_store.first, 1)
    for app in tracked_store.serve():
        answer = click(app, f"/r/{token}.2", url="https://evil.example/")
        assert answer.status_code == 302
        assert answer.headers["location"] == FIRST[1]
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.content == b""
    (counted,) = clicks_in(tracked_store.engine)
    assert counted.link_id == link_id(tracked_store.engine, tracked_store.first, 1, 2)
    assert counted.machine is None
    assert counted.subscriber_id is None


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/r/{forged}.1", id="forged signature"),
        pytest.param("/r/{foreign}.1", id="signed with another key"),
        pytest.param("/r/{first}.4", id="position out of range"),
        pytest.param("/r/{first_en}.3", id="position of the other variant"),
        pytest.param("/r/{first}.5", id="position of another issue's link"),
        pytest.param("/r/{first}.0", id="position zero"),
        pytest.param("/r/{first}.01", id="leading zero"),
        pytest.param("/r/{first}.-1", id="negative"),
        pytest.param("/r/{first}.%D9%A1", id="arabic-indic digit"),
        pytest.param("/r/{first}.99999999999999999999", id="huge position"),
        pytest.param("/r/{first}", id="no position"),
        pytest.param("/r/{first}x.1", id="token too long"),
        pytest.param("/r/{short}.1", id="token cut short"),
        pytest.param("/r/not-a-token.1", id="not base64"),
        pytest.param("/r/.1", id="empty token"),
        pytest.param("/o/{first}.gif", id="open while opens are off"),
    ],
)
def test_bad_tracked_links_get_404_and_count_nothing(tracked_store: Store, path: str) -> None:
    first = mail_token(tracked_store.first, 1)
    tokens = {
        "first": first,
        "first_en": mail_token(tracked_store.first, 2),
        "forged": tampered(first, 5),
        "foreign": _token_signed_with("another-secret-key-of-someone-else"),
        "short": first[:-2],
    }
    for app in tracked_store.serve():
        for method in ("GET", "HEAD"):
            answer = click(app, path.format(**tokens), method=method)
            assert answer.status_code == 404, method
            assert "location" not in answer.headers
        page = click(app, path.format(**tokens))
        assert "text/html" in page.headers["content-type"] and "<h1" in page.text
    assert clicks_in(tracked_store.engine) == []
    assert opens_in(tracked_store.engine) == []


def tampered(token: str, index: int) -> str:
    """The token with one character changed (not its last: that may carry padding bits)."""
    return token[:index] + ("B" if token[index] == "A" else "A") + token[index + 1 :]


def _token_signed_with(key: str) -> str:
    return ClickTokenMaker(key)(1, 1, int(time.time() // 60) - 10)


def test_a_scanner_is_counted_as_machine_and_the_reader_after_it_as_reader(
    tracked_store: Store,
) -> None:
    """A scanner: HEAD, then every link of the mail within 2 s, with a browser's user
    agent. The reader of the same mail clicks once the scanner's seconds are over."""
    token = mail_token(tracked_store.first, 1)
    for app in tracked_store.serve():
        started = time.monotonic()
        assert click(app, f"/r/{token}.1", SCANNER, "HEAD").status_code == 302
        for position in (1, 2, 3):
            assert click(app, f"/r/{token}.{position}", SCANNER).status_code == 302
        assert time.monotonic() - started < 2, "the scanner was slower than scanners are"
        time.sleep(machine.WINDOW_S + 0.5)
        assert click(app, f"/r/{token}.3", READER).headers["location"] == FIRST[2]
    *scanner, reader = clicks_in(tracked_store.engine)
    assert [c.machine for c in scanner] == ["head", "sweep", "sweep", "sweep"]
    assert reader.machine is None
    assert reader.link_id == link_id(tracked_store.engine, tracked_store.first, 1, 3)


def test_a_click_right_after_the_batch_is_early_and_a_fetcher_an_agent(
    tracked_store: Store,
) -> None:
    just_sent = mail_token(tracked_store.first, 1, minutes_ago=0)
    older = mail_token(tracked_store.first, 1)
    for app in tracked_store.serve():
        assert click(app, f"/r/{just_sent}.1").status_code == 302
        assert click(app, f"/r/{older}.1", "python-requests/2.32").status_code == 302
        assert click(app, f"/r/{older}.2", "").status_code == 302
    assert [c.machine for c in clicks_in(tracked_store.engine)] == ["early", "agent", "agent"]


def test_clicks_are_written_within_seconds_while_serving(tracked_store: Store) -> None:
    token = mail_token(tracked_store.first, 2)
    for app in tracked_store.serve():
        assert click(app, f"/r/{token}.1").status_code == 302
        deadline = time.monotonic() + 30
        while not clicks_in(tracked_store.engine):
            assert time.monotonic() < deadline, "the click was not written while serving"
            time.sleep(0.1)
        assert clicks_in(tracked_store.engine)[0].at <= datetime.now(UTC)


def test_a_click_names_the_reader_only_while_they_agree(tracked_store: Store) -> None:
    engine = tracked_store.engine
    consent = store.Consent("admin", "test", datetime.now(UTC))
    with engine.begin() as connection:
        agreed = store.add(connection, email="a@example.org", state="active", consent=consent)
        declined = store.add(connection, email="d@example.org", state="active", consent=consent)
        connection.execute(
            sa.update(db.subscribers)
            .where(db.subscribers.c.id == agreed.id)
            .values(stats_consent_at=datetime.now(UTC), stats_consent_text_version="1")
        )
    tokens = [
        mail_token(tracked_store.first, 1, subscriber_id=agreed.id),
        mail_token(tracked_store.first, 1, subscriber_id=declined.id),
        mail_token(tracked_store.first, 1, subscriber_id=2_000_000),  # an erased reader
    ]
    for app in tracked_store.serve():
        for token in tokens:
            assert click(app, f"/r/{token}.1").status_code == 302
    assert [c.subscriber_id for c in clicks_in(engine)] == [agreed.id, None, None]


def test_a_stored_destination_is_sent_percent_encoded_and_only_if_http(
    tracked_store: Store,
) -> None:
    odd = add_issue(
        tracked_store.engine,
        3,
        {"de": ["https://example.org/straße?q=ä b", "javascript:alert(1)"]},
    )
    token = mail_token(odd, 1)
    for app in tracked_store.serve():
        answer = click(app, f"/r/{token}.1")
        assert answer.headers["location"] == "https://example.org/stra%C3%9Fe?q=%C3%A4%20b"
        assert click(app, f"/r/{token}.2").status_code == 404
    assert len(clicks_in(tracked_store.engine)) == 1


def test_with_clicks_off_links_still_lead_on_and_nothing_is_counted(
    tracked_store: Store,
) -> None:
    tracked_store.project.edit_config(lambda raw: raw.update(analytics={"clicks": False}))
    token = mail_token(tracked_store.first, 1)
    for app in tracked_store.serve():
        assert click(app, f"/r/{token}.1").headers["location"] == FIRST[0]
    assert clicks_in(tracked_store.engine) == []


def test_opens_count_a_one_pixel_image_when_switched_on(tracked_store: Store) -> None:
    tracked_store.project.edit_config(lambda raw: raw.update(analytics={"opens": True}))
    token = mail_token(tracked_store.first, 2)
    for app in tracked_store.serve():
        image = click(app, f"/o/{token}.gif")
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/gif"
        assert image.headers["cache-control"] == "no-store"
        assert image.content[:6] == b"GIF89a" and image.content[6:10] == b"\x01\x00\x01\x00"
        assert click(app, f"/o/{tampered(token, 0)}.gif").status_code == 404
        assert click(app, f"/o/{mail_token(tracked_store.first, 3)}.gif").status_code == 404
        assert click(app, f"/o/{mail_token(99, 1)}.gif").status_code == 404
    (opened,) = opens_in(tracked_store.engine)
    assert opened.machine is None
    with tracked_store.engine.connect() as connection:
        row = connection.execute(sa.select(db.opens.c.issue_id, db.opens.c.variant_no)).one()
    assert tuple(row) == (tracked_store.first, 2)
    assert clicks_in(tracked_store.engine) == []
