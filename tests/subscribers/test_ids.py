"""An erased reader's signed links never act on anyone who signs up later."""

from __future__ import annotations

import sqlalchemy as sa

from pipeline import db
from subscribers import store
from subscribers.schema import subscribers


def test_an_erased_readers_id_is_never_given_to_a_new_reader(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    consent = store.Consent("admin", "test", db.now())
    with engine.begin() as connection:
        erased = store.add(connection, email="erased@example.org", state="active", consent=consent)
        connection.execute(sa.delete(subscribers).where(subscribers.c.id == erased.id))
        newcomer = store.add(connection, email="new@example.org", state="active", consent=consent)
    assert newcomer.id != erased.id
