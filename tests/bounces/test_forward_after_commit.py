"""A reply forwarded to `bounces.forward_replies_to` goes out after its transaction has
committed: while the relay (aiosmtpd) holds the mail, the store is free and the reply's
row is there, kept; once the relay took it, it is marked forwarded and filed. A relay
that refuses leaves it kept in the mailbox, and a later read forwards it."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline import db
from pipeline.bounces.classify import classify
from pipeline.bounces.fetch import FORWARD_RETRY_AFTER, fetch_bounces
from pipeline.db import bounce_messages
from tests.bounces.dovecot import Dovecot, MailUser
from tests.bounces.fixtures import bounce_for
from tests.bounces.helpers import mailbox_settings, reader_with_delivery, use_mailbox
from tests.conftest import TEST_SECRET_KEY, Project, smtp_relay

EDITORS = "redaktion@netzwerk-quartier.example.org"


@dataclass
class ProbingRelay:
    """A relay that, before it answers, looks at the store from its own connection: the
    reply's row as committed, and whether a write gets through within half a second."""

    url: str
    refuse: bool = False
    received: list[bytes] = field(default_factory=list)
    seen_rows: list[list[str]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        impatient = _impatient_engine(self.url)
        try:
            with impatient.begin() as connection:
                self.seen_rows.append(
                    list(
                        connection.execute(
                            sa.select(bounce_messages.c.filed).where(
                                bounce_messages.c.kind == "reply"
                            )
                        ).scalars()
                    )
                )
                connection.execute(sa.update(bounce_messages).values(notes=bounce_messages.c.notes))
            self.writes.append("ok")
        except sa.exc.OperationalError as exc:
            self.writes.append(f"locked: {exc.orig}")
        finally:
            impatient.dispose()
        if self.refuse:
            return "451 4.3.0 try again later"
        self.received.append(envelope.original_content or b"")
        return "250 2.0.0 Queued"


def _impatient_engine(url: str) -> sa.Engine:
    if url.startswith("postgresql"):
        return db.make_engine(f"{url}?options=-c%20lock_timeout%3D500")
    return db.make_engine(url, busy_timeout_s=0.5)


@pytest.fixture
def relay(database_url: str) -> Iterator[tuple[ProbingRelay, int]]:
    handler = ProbingRelay(database_url)
    with smtp_relay(handler) as port:
        yield handler, port


def _with_a_reply(
    project: Project, database_url: str, dovecot: Dovecot, port: int
) -> tuple[MailUser, bytes]:
    user = dovecot.new_user()
    use_mailbox(project, mailbox_settings(dovecot, user, "imap", "none"), database_url)

    def forward(raw: dict[str, object]) -> None:
        smtp = {"host": "127.0.0.1", "port": port, "tls": "none"}
        raw["provider"] = {"name": "smtp", "smtp": smtp}
        raw["bounces"]["forward_replies_to"] = EDITORS  # type: ignore[index]

    project.edit_config(forward)
    project.run("db", "upgrade")
    sent = reader_with_delivery(project.engine(), "j.klein@example.net")
    reply = bounce_for("reader-reply", TEST_SECRET_KEY, sent.delivery_id)
    dovecot.append(user, reply)
    return user, reply


def test_a_reply_is_forwarded_with_no_transaction_open(
    project: Project,
    database_url: str,
    dovecot: Dovecot,
    relay: tuple[ProbingRelay, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port = relay
    user, reply = _with_a_reply(project, database_url, dovecot, port)
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", user.password)
    report = fetch_bounces(project.config(), project.engine(), TEST_SECRET_KEY, classify)
    assert handler.seen_rows == [["kept"]], "stored and committed before the relay answered"
    assert handler.writes == ["ok"], "the store was free while the relay held the mail"
    [forwarded] = handler.received
    message = email.message_from_bytes(forwarded, policy=email.policy.default)
    [attachment] = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_content() == reply, "the reply, unchanged"
    assert report.counts["reply"] == 1 and report.problems == []
    with project.engine().connect() as connection:
        row = connection.execute(sa.select(bounce_messages.c.filed, bounce_messages.c.action))
        [(filed, action)] = row.all()
    assert (filed, action) == ("processed", f"a reply, forwarded to {EDITORS}")
    assert dovecot.folder(user, "INBOX") == []
    assert len(dovecot.folder(user, "processed")) == 1


def test_a_refused_forward_stays_in_the_mailbox_and_a_later_read_forwards_it(
    project: Project,
    database_url: str,
    dovecot: Dovecot,
    relay: tuple[ProbingRelay, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, port = relay
    user, _reply = _with_a_reply(project, database_url, dovecot, port)
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", user.password)
    engine = project.engine()
    handler.refuse = True
    report = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)
    [problem] = report.problems
    assert "451" in problem, problem
    assert len(dovecot.folder(user, "INBOX")) == 1, "left in the mailbox"

    soon = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)
    assert soon.kept == 1 and len(handler.seen_rows) == 1, "not tried again at once"

    with engine.begin() as connection:  # the next scheduled read, minutes later
        connection.execute(
            sa.update(bounce_messages).values(
                processed_at=db.now() - FORWARD_RETRY_AFTER - timedelta(seconds=1)
            )
        )
    handler.refuse = False
    later = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)
    assert later.problems == [] and later.refiled == 1
    assert len(handler.received) == 1
    assert dovecot.folder(user, "INBOX") == []
    with engine.connect() as connection:
        filed = connection.execute(sa.select(bounce_messages.c.filed)).scalar_one()
    assert filed == "processed"
