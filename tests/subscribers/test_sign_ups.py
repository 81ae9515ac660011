"""The opt-in's waiting sign-ups on SQLite and PostgreSQL: one a reader, used once, replaced
by a later one, and two sign-ups or two presses at the same moment count once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from subscribers import sign_ups, store
from subscribers.schema import subscribers

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PAUSE = timedelta(minutes=15)


def _form(topics: tuple[str, ...], at: datetime = AT) -> sign_ups.SignUp:
    return sign_ups.SignUp("Anna", "de", topics, "1", "192.0.2.1", at)


def _pending(engine: sa.Engine, address: str) -> store.Subscriber:
    with engine.begin() as connection:
        return store.add(connection, email=address, consent=None)


def test_a_sign_up_confirms_once_and_only_by_its_own_nonce(engine: sa.Engine) -> None:
    reader = _pending(engine, "anna@example.org")
    with engine.begin() as connection:
        first = sign_ups.request(connection, reader, _form(("netzwerk",)), PAUSE)
        assert sign_ups.request(connection, reader, _form(("partner",)), PAUSE) is None
    later = AT + PAUSE
    with engine.begin() as connection:
        second = sign_ups.request(connection, reader, _form(("partner",), later), PAUSE)
    assert first and second and first != second
    pressed = later + timedelta(minutes=1)
    with engine.begin() as connection:
        assert (
            sign_ups.confirm(connection, reader.id, first, pressed, "192.0.2.9", name="") == "used"
        )
        assert (
            sign_ups.confirm(connection, reader.id, second, pressed, "192.0.2.9", name="")
            == "confirmed"
        )
        assert sign_ups.confirm(connection, reader.id, second, pressed, "192.0.2.9", name="") == (
            "already active"
        )
    with engine.connect() as connection:
        found = store.get(connection, reader.id)
        row = connection.execute(sa.select(subscribers).where(subscribers.c.id == reader.id)).one()
    assert found is not None and found.state == "active" and found.topics == ("partner",)
    assert row.consent_at == pressed and row.consent_ip == "192.0.2.9"


def test_sign_ups_at_the_same_moment_keep_one(engine: sa.Engine) -> None:
    reader = _pending(engine, "gleichzeitig@example.org")
    start = threading.Barrier(6)

    def request(_: int) -> str | None:
        start.wait()
        with engine.begin() as connection:
            return sign_ups.request(connection, reader, _form(("netzwerk",)), PAUSE)

    with ThreadPoolExecutor(6) as pool:
        nonces = [nonce for nonce in pool.map(request, range(6)) if nonce]
    assert len(nonces) == 1


def test_presses_at_the_same_moment_confirm_once(engine: sa.Engine) -> None:
    reader = _pending(engine, "doppelklick@example.org")
    with engine.begin() as connection:
        nonce = sign_ups.request(connection, reader, _form(("netzwerk",)), PAUSE)
    assert nonce is not None
    start = threading.Barrier(4)

    def press(_: int) -> str:
        start.wait()
        with engine.begin() as connection:
            return sign_ups.confirm(connection, reader.id, nonce, AT, "192.0.2.9", name="")

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(press, range(4)))
    assert outcomes.count("confirmed") == 1
    with engine.connect() as connection:
        history = store.history(connection, reader.id)
    assert [line["state"] for line in history].count("active") == 1
