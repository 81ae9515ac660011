"""The subscriber store on SQLite and PostgreSQL: audience, bounces, suppression, GDPR."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from subscribers import gdpr, import_csv, store, suppression
from subscribers.csv_export import export_csv
from subscribers.schema import soft_bounce_events, subscriber_events, subscribers, suppressions

CONSENT = store.Consent("admin", "tests", datetime(2026, 1, 5, tzinfo=UTC))
TOPICS = ["netzwerk", "veranstaltungen", "partner"]


def _add(engine: sa.Engine, address: str, state: str = "active") -> store.Subscriber:
    with engine.begin() as connection:
        return store.add(connection, email=address, state=state, consent=CONSENT)


def _audience(engine: sa.Engine) -> set[int]:
    with engine.connect() as connection:
        return set(connection.execute(store.active_ids()).scalars())


def test_addresses_are_one_subscriber_whatever_their_case(engine: sa.Engine) -> None:
    added = _add(engine, "Anna.Schmidt@Example.ORG")
    with engine.connect() as connection:
        assert store.find(connection, "anna.schmidt@example.org") == added
    with pytest.raises(sa.exc.IntegrityError):
        _add(engine, "ANNA.SCHMIDT@example.org")


def test_audience_is_active_subscribers_not_on_the_suppression_list(engine: sa.Engine) -> None:
    active = _add(engine, "aktiv@example.org")
    suppressed = _add(engine, "gesperrt@example.org")
    _add(engine, "wartet@example.org", state="pending")
    with engine.begin() as connection:
        suppression.suppress(connection, "gesperrt@example.org", "admin")
    assert _audience(engine) == {active.id}
    assert suppressed.state == "active"


def test_hard_bounce_and_complaint_suppress_and_are_logged(engine: sa.Engine) -> None:
    bounced = _add(engine, "weg@example.org")
    complained = _add(engine, "spam@example.org")
    with engine.begin() as connection:
        store.record_bounce(connection, "weg@example.org", "hard", "550 no such user", 3)
        store.record_bounce(connection, "spam@example.org", "complaint", "abuse report", 3)
        store.record_bounce(connection, "unbekannt@example.org", "hard", "550", 3)
        assert suppression.reason_for(connection, "unbekannt@example.org") == "hard_bounce"
        causes = connection.execute(
            sa.select(subscriber_events.c.state, subscriber_events.c.cause).where(
                subscriber_events.c.subscriber_id == bounced.id
            )
        ).all()
        assert store.get(connection, complained.id).state == "complained"  # type: ignore[union-attr]
    assert ("bounced", "550 no such user") in [tuple(row) for row in causes]
    assert _audience(engine) == set()


def test_soft_bounces_are_counted_until_the_limit(engine: sa.Engine) -> None:
    reader = _add(engine, "voll@example.org")
    with engine.begin() as connection:
        assert (
            store.record_bounce(connection, "voll@example.org", "soft", "452 full", 2) == "active"
        )
    assert _audience(engine) == {reader.id}
    with engine.begin() as connection:
        assert (
            store.record_bounce(connection, "voll@example.org", "soft", "452 full", 2) == "bounced"
        )
        assert suppression.reason_for(connection, "voll@example.org") == "soft_bounces"


def test_soft_bounces_older_than_the_window_no_longer_count(engine: sa.Engine) -> None:
    """A full mailbox last spring says nothing of today: with a limit of 2 within 30 days,
    one soft bounce 31 days ago and one now suppress nobody; a second within the window does."""
    reader = _add(engine, "voll@example.org")
    window = timedelta(days=30)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(soft_bounce_events).values(
                subscriber_id=reader.id, at=datetime.now(UTC) - timedelta(days=31)
            )
        )
        state = store.record_bounce(connection, "voll@example.org", "soft", "452 full", 2, window)
        assert state == "active"
    with engine.begin() as connection:
        state = store.record_bounce(connection, "voll@example.org", "soft", "452 full", 2, window)
        assert state == "bounced"
        count = connection.execute(
            sa.select(subscribers.c.soft_bounces).where(subscribers.c.id == reader.id)
        ).scalar_one()
    assert count == 2, "the counter is the soft bounces within the window"


def test_suppression_keeps_only_a_salted_hash(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        suppression.suppress(connection, "geheim@example.org", "erased")
        stored = connection.execute(sa.select(suppressions.c.email_hash)).scalar_one()
    assert "geheim" not in stored and len(stored) == 64
    assert stored != hashlib.sha256(b"geheim@example.org").hexdigest()


def test_gdpr_export_holds_everything_and_erase_leaves_only_the_hash(engine: sa.Engine) -> None:
    reader = _add(engine, "person@example.org")
    with engine.begin() as connection:
        store.set_preferences(connection, reader.id, topics=["partner"], locale="en")
        record = gdpr.export_person(connection, "Person@example.org")
    assert record is not None
    assert record["email"] == "person@example.org" and record["topics"] == ["partner"]
    assert record["consent"]["source"] == "admin" and record["history"][0]["state"] == "active"
    with engine.begin() as connection:
        assert gdpr.erase(connection, "person@example.org") is True
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(subscribers)).scalar() == 0
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(subscriber_events)).scalar()
            == 0
        )
        assert gdpr.export_person(connection, "person@example.org") == {
            "email": "person@example.org",
            "suppressed": "erased",
        }


def test_erased_address_cannot_be_imported_again(engine: sa.Engine, tmp_path: Path) -> None:
    _add(engine, "person@example.org")
    with engine.begin() as connection:
        gdpr.erase(connection, "person@example.org")
    sheet = tmp_path / "again.csv"
    sheet.write_text("email,name\nperson@example.org,Person\nneu@example.org,Neu\n")
    report = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by="tests", apply=True)
    assert [str(p) for p in report.problems] == [
        "row 2, column email: is on the suppression list (erased)"
    ]
    assert [row.email for row in report.added] == ["neu@example.org"]


def test_csv_import_reports_each_bad_row_and_writes_only_on_apply(
    engine: sa.Engine, tmp_path: Path
) -> None:
    sheet = tmp_path / "partners.csv"
    sheet.write_text(
        "email,name,locale,topics,consent_at\n"
        "gut@example.org,Gut,de,netzwerk,2025-03-01T10:00:00\n"
        "kein-at-zeichen,Schlecht,de,,2025-03-01\n"
        "fr@example.org,Franz,fr,,2025-03-01\n"
        "thema@example.org,Thema,de,kochen,2025-03-01\n"
        "ohne@example.org,Ohne,de,,\n"
        "GUT@example.org,Doppelt,de,,2025-03-01\n",
        encoding="utf-8",
    )
    dry = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by=None, apply=False)
    problems = [(p.row, p.column) for p in dry.problems]
    assert problems == [(3, "email"), (4, "locale"), (5, "topics"), (6, "consent_at"), (7, "email")]
    assert "kochen" in str(dry.problems[2]) and "--consent-given-by" in str(dry.problems[3])
    assert _audience(engine) == set()
    applied = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by=None, apply=True)
    again = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by=None, apply=True)
    assert [r.email for r in applied.added] == ["gut@example.org"]
    assert again.added == [] and [r.email for r in again.known] == ["gut@example.org"]


def test_import_never_reactivates_an_unsubscribed_reader(engine: sa.Engine, tmp_path: Path) -> None:
    reader = _add(engine, "weg@example.org")
    with engine.begin() as connection:
        store.set_state(connection, reader.id, "unsubscribed", "link")
    sheet = tmp_path / "old.csv"
    sheet.write_text("email\nweg@example.org\n")
    import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by="tests", apply=True)
    with engine.connect() as connection:
        assert store.get(connection, reader.id).state == "unsubscribed"  # type: ignore[union-attr]


def test_csv_export_defuses_spreadsheet_formulas(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        store.add(
            connection,
            email="formel@example.org",
            name='=HYPERLINK("http://x","y")',
            consent=CONSENT,
        )
        store.add(connection, email="plus@example.org", name="+49 30 123", consent=CONSENT)
        out = io.StringIO()
        assert export_csv(connection, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["name"] == '\'=HYPERLINK("http://x","y")'
    assert rows[1]["name"] == "'+49 30 123"
    assert rows[0]["email"] == "formel@example.org"
