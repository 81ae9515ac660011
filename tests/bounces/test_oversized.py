"""A message over MAX_MESSAGE_BYTES (a reader's 12 MB of photos sent to the bounce
address) in a real Dovecot: not read whole, filed as unrecognised over IMAP and left on
the server over POP3, its header alone stored; the bounce after it is read as usual."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.bounces.classify import classify
from pipeline.bounces.fetch import fetch_bounces
from pipeline.bounces.mailbox import MAX_MESSAGE_BYTES
from pipeline.db import bounce_messages
from pipeline.tokens import make_delivery_token
from subscribers import store
from tests.bounces.dovecot import Dovecot
from tests.bounces.helpers import dsn, mailbox_settings, reader_with_delivery, use_mailbox
from tests.conftest import TEST_SECRET_KEY, Project

LINE = b"A" * 76 + b"\r\n"


def _huge() -> bytes:
    header = (
        b"From: Jana Klein <j.klein@example.net>\r\n"
        b"To: bounces@netzwerk-quartier.example.org\r\n"
        b"Subject: Fotos vom Quartiersfest\r\n"
        b"Message-ID: <fotos.1@example.net>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
    )
    return header + LINE * (MAX_MESSAGE_BYTES // len(LINE) + 30_000)


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_an_oversized_message_is_not_read_whole_and_never_deleted(
    protocol: str, project: Project, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = dovecot.new_user()
    use_mailbox(project, mailbox_settings(dovecot, user, protocol, "none"))  # type: ignore[arg-type]
    project.run("db", "upgrade")
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", user.password)
    engine = project.engine()
    sent = reader_with_delivery(engine, "leser@example.org")
    token = make_delivery_token(TEST_SECRET_KEY, sent.delivery_id)
    huge = _huge()
    assert len(huge) > MAX_MESSAGE_BYTES
    dovecot.append(user, huge, dsn(token, "leser@example.org", "5.1.1", "550 user unknown"))

    report = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)

    assert report.counts == {"unrecognised": 1, "hard": 1}, report.actions
    assert report.unrecognised == 1 and report.problems == []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                bounce_messages.c.kind,
                bounce_messages.c.filed,
                sa.func.length(bounce_messages.c.raw),
                bounce_messages.c.notes,
            ).order_by(bounce_messages.c.id)
        ).all()
        reader = store.get(connection, sent.subscriber_id)
    (kind, filed, stored_bytes, notes), (next_kind, *_rest) = rows
    assert kind == "unrecognised" and next_kind == "hard"
    assert stored_bytes < 1000, "its header alone stored"
    assert f"{len(huge)} bytes, over the {MAX_MESSAGE_BYTES}" in notes
    assert reader is not None and reader.state == "bounced", "the bounce after it was read"
    if protocol == "imap":
        assert filed == "unrecognised"
        assert dovecot.folder(user, "INBOX") == []
        [(kept, _flags)] = dovecot.folder(user, "unrecognised")
        assert kept == huge, "the mailbox keeps it whole"
    else:
        assert filed == "kept"
        [(kept, _flags)] = dovecot.folder(user, "INBOX")
        assert kept == huge, "never deleted from the POP3 server"
        again = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)
        assert sum(again.counts.values()) == 0 and again.refiled == 0
        assert len(dovecot.folder(user, "INBOX")) == 1
