"""The bounce tests' Dovecot: two instances a session (plain text, and TLS-capable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bounces.dovecot import Dovecot, DovecotDidNotStart, MailUser, remove, start_dovecot


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
