"""The ledger's promises hold on both engines: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeline import db
from pipeline.db import deliveries, issues
from pipeline.send import ledger
from pipeline.send.message import SendResult
from subscribers import store


@pytest.fixture
def engine(database_url: str) -> sa.Engine:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    return engine


def _issue_with_readers(
    engine: sa.Engine, readers: int, topics: Sequence[Sequence[str]] = ()
) -> int:
    consent = store.Consent("admin", "test", db.now())
    with engine.begin() as connection:
        for n in range(readers):
            chosen = topics[n] if n < len(topics) else ()
            store.add(
                connection,
                email=f"reader{n}@example.org",
                name=f"Leserin {n}",
                state="active",
                topics=chosen,
                consent=consent,
            )
        store.add(connection, email="pending@example.org", consent=consent)
        issue_id: int = connection.execute(
            sa.insert(issues)
            .values(number=1, subject="s", state="sending", created_at=db.now())
            .returning(issues.c.id)
        ).scalar_one()
        assert ledger.create_deliveries(connection, issue_id, db.now()) == readers
    return issue_id


def test_only_active_readers_get_a_delivery_row(engine: sa.Engine) -> None:
    issue_id = _issue_with_readers(engine, 5)
    with engine.connect() as connection:
        assert ledger.counts(connection, issue_id) == {"pending": 5}


def test_claimed_rows_are_not_claimed_again(engine: sa.Engine) -> None:
    issue_id = _issue_with_readers(engine, 7)
    first = ledger.claim_batch(engine, issue_id, 5)
    second = ledger.claim_batch(engine, issue_id, 5)
    assert len(first) == 5 and len(second) == 2
    assert not {r.delivery_id for r in first} & {r.delivery_id for r in second}
    assert ledger.claim_batch(engine, issue_id, 5) == []


def test_a_claim_reads_each_reader_with_their_topics(engine: sa.Engine) -> None:
    issue_id = _issue_with_readers(engine, 3, topics=[["events"], [], ["events", "partners"]])
    claimed = ledger.claim_batch(engine, issue_id, 10)
    assert [(r.email, r.name, r.topics) for r in claimed] == [
        ("reader0@example.org", "Leserin 0", ("events",)),
        ("reader1@example.org", "Leserin 1", ()),
        ("reader2@example.org", "Leserin 2", ("events", "partners")),
    ]


def test_results_are_recorded_per_row(engine: sa.Engine) -> None:
    issue_id = _issue_with_readers(engine, 4)
    claimed = ledger.claim_batch(engine, issue_id, 10)
    ids = [r.delivery_id for r in claimed]
    ledger.record_results(
        engine,
        [
            SendResult(ids[0], provider_message_id="m-0"),
            SendResult(ids[1], error="invalid address: reader1"),
            SendResult(ids[2], provider_message_id=None),
            SendResult(ids[3], provider_message_id="m-3"),
        ],
    )
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                deliveries.c.id,
                deliveries.c.state,
                deliveries.c.provider_message_id,
                deliveries.c.error,
                deliveries.c.lease_owner,
            ).order_by(deliveries.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        (ids[0], "sent", "m-0", None, None),
        (ids[1], "failed", None, "invalid address: reader1", None),
        (ids[2], "sent", None, None, None),
        (ids[3], "sent", "m-3", None, None),
    ]


def test_duplicate_delivery_row_is_refused(engine: sa.Engine) -> None:
    issue_id = _issue_with_readers(engine, 1)
    with engine.connect() as connection:
        row = connection.execute(sa.select(deliveries)).mappings().one()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.insert(deliveries).values(
                issue_id=issue_id,
                subscriber_id=row["subscriber_id"],
                state="pending",
                updated_at=db.now(),
            )
        )


def test_schema_gate_names_the_fix(database_url: str) -> None:
    engine = db.make_engine(database_url)
    with pytest.raises(db.SchemaOutOfDate, match="newsletter db upgrade"):
        db.require_current_schema(engine)
    db.upgrade(engine)
    db.require_current_schema(engine)


def test_the_migrations_build_the_schema_the_code_declares(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
