"""The bounce tests' Dovecot (two instances a session: plain text, and TLS-capable), and a
store on each engine shared by a module."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from pipeline import db
from tests.bounces.dovecot import Dovecot, DovecotDidNotStart, MailUser, remove, start_dovecot
from tests.conftest import POSTGRES_ADMIN_URL


def _started(*, tls: bool) -> Iterator[Dovecot]:
    try:
        server = start_dovecot(tls=tls)
    except DovecotDidNotStart as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        remove(server)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot without TLS (`ssl = no`): IMAP and POP3 in plain text on loopback."""
    yield from _started(tls=False)


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[Dovecot]:
    """Dovecot with a self-signed certificate: imaps/pop3s, and STARTTLS on the plain ports."""
    yield from _started(tls=True)


@pytest.fixture
def mail_user(dovecot: Dovecot) -> MailUser:
    return dovecot.new_user()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """One migrated store a module on each engine (a PostgreSQL database takes seconds to
    make): the tests give their readers addresses of their own (`address`)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        yield engine
        engine.dispose()
        return
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"newsletter_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = db.make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def address() -> Callable[[str], str]:
    """A reader's address of this test's own: `address("voll")` -> voll-3f2a…@example.org."""
    suffix = uuid.uuid4().hex[:8]
    return lambda name: f"{name}-{suffix}@example.org"
