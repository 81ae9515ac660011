"""The optional consent to personalised statistics in the store, on both engines: kept with
the sign-up until its confirmation, then on the subscriber with a line of history; a new
sign-up without it withdraws it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from subscribers import sign_ups, store
from subscribers.schema import sign_ups as sign_ups_table
from subscribers.schema import subscribers

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PRESSED = AT + timedelta(minutes=3)
PAUSE = timedelta(minutes=15)


def _sign_up(
    engine: sa.Engine, reader: store.Subscriber, stats: str | None, at: datetime = AT
) -> str:
    form = sign_ups.SignUp("Anna", "de", (), "1", "192.0.2.1", at, stats_text_version=stats)
    with engine.begin() as connection:
        nonce = sign_ups.request(connection, reader, form, PAUSE)
    assert nonce is not None
    return nonce


def _columns(engine: sa.Engine, reader_id: int) -> tuple[object, object]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                subscribers.c.stats_consent_at, subscribers.c.stats_consent_text_version
            ).where(subscribers.c.id == reader_id)
        ).one()
    return row.stats_consent_at, row.stats_consent_text_version


def _causes(engine: sa.Engine, reader_id: int) -> list[str]:
    with engine.connect() as connection:
        return [line["cause"] for line in store.history(connection, reader_id)]


def test_a_ticked_box_waits_with_the_sign_up_and_counts_once_confirmed(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        reader = store.add(connection, email="anna@example.org", consent=None)
    nonce = _sign_up(engine, reader, stats="3")
    with engine.connect() as connection:
        waiting = connection.execute(
            sa.select(sign_ups_table.c.stats_consent_text_version)
        ).scalar_one()
    assert waiting == "3"
    assert _columns(engine, reader.id) == (None, None), "nothing before the button is pressed"
    with engine.begin() as connection:
        assert sign_ups.confirm(connection, reader.id, nonce, PRESSED, "192.0.2.9", "") == (
            "confirmed"
        )
        consent = store.stats_consent(connection, reader.id)
    assert consent == store.StatsConsent(PRESSED, "3")
    assert _columns(engine, reader.id) == (PRESSED, "3")
    assert _causes(engine, reader.id)[-1] == (
        "agreed to personalised statistics (text version 3, sign-up form)"
    )


def test_an_unticked_box_gives_no_consent(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        reader = store.add(connection, email="ben@example.org", consent=None)
    nonce = _sign_up(engine, reader, stats=None)
    with engine.begin() as connection:
        sign_ups.confirm(connection, reader.id, nonce, PRESSED, "192.0.2.9", "")
        assert store.stats_consent(connection, reader.id) is None
    assert not any("statistics" in cause for cause in _causes(engine, reader.id))


def test_a_new_sign_up_without_the_box_withdraws_an_older_consent(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        reader = store.add(connection, email="cleo@example.org", consent=None)
    first = _sign_up(engine, reader, stats="1")
    with engine.begin() as connection:
        sign_ups.confirm(connection, reader.id, first, PRESSED, None, "")
        store.set_state(connection, reader.id, "unsubscribed", "test")
    again = _sign_up(engine, reader, stats=None, at=AT + timedelta(days=1))
    with engine.begin() as connection:
        sign_ups.confirm(connection, reader.id, again, AT + timedelta(days=1), None, "")
    assert _columns(engine, reader.id) == (None, None)
    assert "withdrew personalised statistics (a new sign-up without it)" in _causes(
        engine, reader.id
    )


def test_withdrawing_twice_writes_one_line(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        reader = store.add(
            connection,
            email="dora@example.org",
            state="active",
            consent=store.Consent("admin", "test", AT),
        )
        store.give_stats_consent(connection, reader.id, AT, "1", "preferences page")
        assert store.withdraw_stats_consent(connection, reader.id, "preferences page")
        assert not store.withdraw_stats_consent(connection, reader.id, "preferences page")
    causes = _causes(engine, reader.id)
    assert causes.count("withdrew personalised statistics (preferences page)") == 1
    with engine.connect() as connection:
        states = [line["state"] for line in store.history(connection, reader.id)]
    assert states == ["active"] * 3, "a consent line names the state and changes none"
