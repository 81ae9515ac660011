"""An issue sent over SMTP (aiosmtpd), its bounces put into a real Dovecot as a delivery
lands them, `newsletter bounces fetch` run: each reader ends in the state its bounce
means, and every message is still in the mailbox (INBOX or the two folders)."""

from __future__ import annotations

import email
import email.policy
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline import db
from pipeline.db import bounce_messages, deliveries, delivery_events
from pipeline.tokens import make_delivery_token
from subscribers import store, suppression
from subscribers.schema import subscribers
from tests.bounces.dovecot import Dovecot, MailUser
from tests.bounces.expected import EXPECTED
from tests.bounces.fixtures import bounce_for
from tests.bounces.helpers import (
    BOUNCE_ADDRESS,
    mailbox_settings,
    reader_with_delivery,
    use_mailbox,
)
from tests.conftest import TEST_SECRET_KEY, Project, smtp_relay
from tests.send.conftest import add_readers

BOUNCE_LOCAL, _, BOUNCE_DOMAIN = BOUNCE_ADDRESS.partition("@")
# The fixtures that name someone in their body or by a forged token; they must stay active.
BODY_ADDRESSES = ("maria.fischer@example.net", "anna.schmidt@example.net")


@dataclass
class Sink:
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        self.senders.append(str(envelope.mail_from))
        return "250 2.0.0 Queued"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    with smtp_relay(handler) as port:
        yield handler, port


@dataclass
class SentIssue:
    project: Project
    user: MailUser
    sink: Sink
    raw: dict[str, bytes]
    """fixture name -> the bytes put into the mailbox"""
    by_fixture: dict[str, tuple[str, int]]
    """fixture name -> (the reader's address, their delivery id)"""
    sent: dict[str, bytes]
    """the reader's address -> the issue's mail as the relay got it"""


@pytest.fixture
def sent_issue(ready_project: Project, dovecot: Dovecot, sink: tuple[Sink, int]) -> SentIssue:
    handler, port = sink
    user = dovecot.new_user()
    use_mailbox(ready_project, mailbox_settings(dovecot, user, "imap", "none"))
    ready_project.edit_config(
        lambda raw: raw["provider"].update(
            name="smtp", smtp={"host": "127.0.0.1", "port": port, "tls": "none"}
        )
    )
    engine = ready_project.engine()
    add_readers(engine, len(EXPECTED))
    with engine.begin() as connection:  # the people the stranger's mails name
        for address in BODY_ADDRESSES:
            store.add(
                connection,
                email=address,
                state="active",
                consent=store.Consent("admin", "tests", db.now()),
            )
    ready_project.run("send")
    with engine.connect() as connection:
        sent = dict(
            connection.execute(
                sa.select(subscribers.c.email, deliveries.c.id).join(
                    deliveries, deliveries.c.subscriber_id == subscribers.c.id
                )
            ).all()
        )
    assert len(handler.received) == len(sent), "every reader's mail went over SMTP"
    # The tokens the fixtures get below are the ones the send signed into each mail.
    tokens = {make_delivery_token(TEST_SECRET_KEY, delivery_id) for delivery_id in sent.values()}
    assert {sender.partition("+")[2].partition("@")[0] for sender in handler.senders} == tokens
    for _rcpts, content in handler.received:
        header = re.search(rb"^X-Newsletter-Delivery: (\w+)\r?$", content, re.MULTILINE)
        assert header is not None and header.group(1).decode() in tokens
    names = sorted(EXPECTED)
    by_fixture = {
        name: (f"reader{n}@example.org", sent[f"reader{n}@example.org"])
        for n, name in enumerate(names)
    }
    appended = {}
    for name, (_address, delivery_id) in by_fixture.items():
        appended[name] = bounce_for(
            name,
            TEST_SECRET_KEY,
            delivery_id,
            bounce_local=BOUNCE_LOCAL,
            bounce_domain=BOUNCE_DOMAIN,
        )
        dovecot.append(user, appended[name])
    mails = {rcpts[0]: content for rcpts, content in handler.received}
    handler.received.clear()
    handler.senders.clear()
    return SentIssue(ready_project, user, handler, appended, by_fixture, mails)


def _fetch(issue: SentIssue) -> str:
    result = issue.project.run(
        "bounces",
        "fetch",
        secrets={
            "NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY,
            "NEWSLETTER_BOUNCE_PASSWORD": issue.user.password,
        },
    )
    return result.stdout


def test_every_bounce_fixture_ends_its_reader_in_the_right_state(
    sent_issue: SentIssue, dovecot: Dovecot
) -> None:
    output = _fetch(sent_issue)
    engine = sent_issue.project.engine()
    with engine.connect() as connection:
        for name, (address, delivery_id) in sent_issue.by_fixture.items():
            kind = EXPECTED[name]
            reader = store.find(connection, address)
            assert reader is not None
            listed = suppression.reason_for(connection, address)
            events = [
                row.kind
                for row in connection.execute(
                    sa.select(delivery_events.c.kind).where(
                        delivery_events.c.delivery_id == delivery_id
                    )
                )
            ]
            expected_state = {
                "hard": "bounced",
                "complaint": "complained",
                "unsubscribe": "unsubscribed",
            }.get(kind, "active")
            assert (name, reader.state) == (name, expected_state)
            if kind in ("hard", "complaint"):
                assert listed in ("hard_bounce", "complaint"), name
            else:
                assert listed is None, f"{name} suppressed nobody"
            if kind in ("reply", "unrecognised"):
                assert events == [], f"{name} touched no delivery"
            else:
                assert events == [kind], name
        for address in BODY_ADDRESSES:
            named = store.find(connection, address)
            assert named is not None and named.state == "active", "a body's address names nobody"
            assert suppression.reason_for(connection, address) is None
    hard = sum(1 for kind in EXPECTED.values() if kind == "hard")
    assert f"{hard} hard" in output
    unrecognised = sum(1 for kind in EXPECTED.values() if kind == "unrecognised")
    assert f"; {unrecognised} unrecognised" in output

    inbox = dovecot.folder(sent_issue.user, "INBOX")
    processed = dovecot.folder(sent_issue.user, "processed")
    unrecognised_folder = dovecot.folder(sent_issue.user, "unrecognised")
    kept = sorted(raw for raw, _flags in inbox + processed + unrecognised_folder)
    assert kept == sorted(sent_issue.raw.values()), "every message kept, byte for byte, once"
    folder_of = {raw: "INBOX" for raw, _flags in inbox}
    folder_of |= {raw: "processed" for raw, _flags in processed}
    folder_of |= {raw: "unrecognised" for raw, _flags in unrecognised_folder}
    for name, raw in sent_issue.raw.items():
        kind = EXPECTED[name]
        expected_folder = {"reply": "INBOX", "unrecognised": "unrecognised"}.get(kind, "processed")
        assert (name, folder_of[raw]) == (name, expected_folder)
    replies = [name for name, kind in EXPECTED.items() if kind == "reply"]
    assert len(inbox) == len(replies)
    assert all("\\Seen" not in flags for _raw, flags in inbox), "the reply is still unread"
    assert len(unrecognised_folder) == unrecognised

    # A second read finds nothing new, and leaves the reply where it is.
    again = _fetch(sent_issue)
    assert ": 0 new message(s); 0 unrecognised" in again
    assert len(dovecot.folder(sent_issue.user, "INBOX")) == len(replies)


def test_the_list_unsubscribe_mailto_of_a_sent_mail_unsubscribes_its_reader(
    sent_issue: SentIssue, dovecot: Dovecot
) -> None:
    """What a mail app does with the mailto: of the mail the relay got: a mail to its
    address with its subject; the next read unsubscribes the reader."""
    address, delivery_id = sent_issue.by_fixture["ooo-de"]  # a reader the fixtures leave be
    header = email.message_from_bytes(sent_issue.sent[address], policy=email.policy.default)
    mailto = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", str(header["List-Unsubscribe"]))
    assert mailto is not None, header["List-Unsubscribe"]
    request = EmailMessage()
    request["From"] = address
    request["To"] = mailto.group(1)
    request["Subject"] = urllib.parse.unquote(mailto.group(2))
    request["Message-ID"] = "<unsubscribe-request.1@example.org>"
    request.set_content("This message was automatically generated by Gmail.")
    dovecot.append(sent_issue.user, request.as_bytes(policy=email.policy.SMTP))
    output = _fetch(sent_issue)
    [line] = [
        line
        for line in output.splitlines()
        if ": unsubscribe: " in line and f"delivery {delivery_id} " in line
    ]
    assert line.endswith(": unsubscribed"), line
    with sent_issue.project.engine().connect() as connection:
        reader = store.find(connection, address)
    assert reader is not None and reader.state == "unsubscribed"


def test_status_and_subscribers_show_tell_what_the_mailbox_did(sent_issue: SentIssue) -> None:
    _fetch(sent_issue)
    project = sent_issue.project
    report = json.loads(project.run("status", "--json").stdout)
    [issue] = report["issues"]
    assert issue["blocked"] == sum(1 for kind in EXPECTED.values() if kind == "block")
    assert issue["complaints"] == sum(1 for kind in EXPECTED.values() if kind == "complaint")
    assert issue["bounced"] == sum(1 for k in EXPECTED.values() if k in ("hard", "soft"))
    assert issue["bounced_hard"] == sum(1 for kind in EXPECTED.values() if kind == "hard")
    status = report["bounces"]
    assert status["state"] == "ok" and status["last_error"] is None
    assert status["counts"]["hard"] == sum(1 for kind in EXPECTED.values() if kind == "hard")
    assert status["unrecognised"] == sum(1 for k in EXPECTED.values() if k == "unrecognised")
    text_status = " ".join(project.run("status").stdout.split())
    assert f"Bounce mailbox {status['mailbox']}: ok, last read" in text_status, text_status
    hard = sum(1 for kind in EXPECTED.values() if kind == "hard")
    unrecognised = sum(1 for kind in EXPECTED.values() if kind == "unrecognised")
    assert f"{hard} hard" in text_status and f"; {unrecognised} unrecognised" in text_status
    address, _delivery_id = sent_issue.by_fixture["rfc3464-hard"]
    shown = json.loads(project.run("subscribers", "show", address, "--json").stdout)
    assert shown["state"] == "bounced"
    assert shown["last_bounce"]["kind"] == "hard"
    assert shown["last_bounce"]["status"] == "5.1.1"
    assert shown["last_bounce"]["source"] == "mailbox"
    text = project.run("subscribers", "show", address).stdout
    assert "suppressed by: hard 5.1.1 from mailbox, issue 1" in " ".join(text.split())


def test_a_mailbox_that_cannot_be_reached_is_an_error_line_and_shows_in_status(
    sent_issue: SentIssue,
) -> None:
    result = sent_issue.project.run(
        "bounces",
        "fetch",
        check=False,
        secrets={
            "NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY,
            "NEWSLETTER_BOUNCE_PASSWORD": "not-the-password-4711",
        },
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: bounce mailbox imap://")
    assert "login refused" in result.stderr
    assert "not-the-password-4711" not in result.stderr + result.stdout
    status = sent_issue.project.run("status").stdout
    assert "failing" in status and "login refused" in " ".join(status.split())


def test_without_the_password_variable_fetch_names_it(sent_issue: SentIssue) -> None:
    result = sent_issue.project.run("bounces", "fetch", check=False)
    assert result.returncode == 2
    assert "NEWSLETTER_BOUNCE_PASSWORD is not set" in result.stderr


def test_a_reply_is_forwarded_through_smtp_when_asked(
    sent_issue: SentIssue, dovecot: Dovecot
) -> None:
    editors = "redaktion@netzwerk-quartier.example.org"
    sent_issue.project.edit_config(
        lambda raw: raw["bounces"].update(forward_replies_to=editors)  # type: ignore[attr-defined]
    )
    _fetch(sent_issue)
    [(recipients, forwarded)] = sent_issue.sink.received
    assert recipients == [editors]
    message = email.message_from_bytes(forwarded, policy=email.policy.default)
    [attachment] = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_content() == sent_issue.raw["reader-reply"], "the reply, unchanged"
    assert message["Reply-To"] == "j.klein@example.net"
    assert dovecot.folder(sent_issue.user, "INBOX") == [], "forwarded, then filed"


def test_over_pop3_with_starttls_a_bounce_is_deleted_once_stored_and_a_reply_kept(
    ready_project: Project, dovecot_tls: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dovecot_tls.certificate is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.certificate))  # trusted, verified
    user = dovecot_tls.new_user()
    use_mailbox(ready_project, mailbox_settings(dovecot_tls, user, "pop3", "starttls"))
    engine = ready_project.engine()
    hard = reader_with_delivery(engine, "pop.hard@example.org")
    replying = reader_with_delivery(engine, "pop.reply@example.org")
    for name, sent in (("rfc3464-hard", hard), ("reader-reply", replying)):
        raw = bounce_for(
            name,
            TEST_SECRET_KEY,
            sent.delivery_id,
            bounce_local=BOUNCE_LOCAL,
            bounce_domain=BOUNCE_DOMAIN,
        )
        dovecot_tls.append(user, raw)
    secrets = {
        "NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY,
        "NEWSLETTER_BOUNCE_PASSWORD": user.password,
    }
    output = ready_project.run("bounces", "fetch", secrets=secrets).stdout
    assert "1 hard" in output and "1 reply" in output
    [(left, _flags)] = dovecot_tls.folder(user)
    assert b"Subject: Re: " in left, "the reply stays on the server; the bounce is gone"
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(bounce_messages.c.kind, bounce_messages.c.raw).order_by(bounce_messages.c.id)
        ).all()
        reader = store.find(connection, "pop.hard@example.org")
    assert [kind for kind, _raw in stored] == ["hard", "reply"]
    assert all(raw for _kind, raw in stored), "deleted only with its bytes in the database"
    assert reader is not None and reader.state == "bounced"
    again = ready_project.run("bounces", "fetch", secrets=secrets).stdout
    assert "0 new message(s)" in again and "1 reply left unread" in again
