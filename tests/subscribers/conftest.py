"""A migrated store on each engine: a SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from pipeline import db


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()
