"""The mailbox readers against a real Dovecot: IMAP and POP3, each in plain text, with
implicit TLS and with STARTTLS; the bytes as the server holds them; filing by moving
(IMAP, folders made when missing) or deleting (POP3); replies left unread."""

from __future__ import annotations

import poplib

import pytest

from pipeline.bounces.mailbox import open_mailbox
from pipeline.config import BounceMailbox
from pipeline.errors import MailboxError
from tests.bounces.dovecot import Dovecot
from tests.bounces.helpers import Tls, mailbox_settings
from tests.conftest import free_port

BOUNCE = (
    b"Return-Path: <>\r\n"
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
    b"To: bounces@example.org\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <20261207.ABC@mx.example.net>\r\n"
    b"\r\n"
    b"..a line that starts with a dot (POP3 stuffs it) and trailing spaces  \r\n"
    b"\xe4 8-bit byte kept\r\n"
    b"<p>" + b"a long HTML line, as returned mails have them " * 200 + b"</p>\r\n"
)
REPLY = (
    b"From: Anna <anna@example.com>\r\nTo: bounces@example.org\r\nSubject: Re: Ausgabe 1\r\n"
    b"Message-ID: <reply-1@example.com>\r\n\r\nDanke!\r\n"
)


@pytest.fixture
def trusted(dovecot_tls: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    """The TLS instance, its certificate trusted the way an operator would: SSL_CERT_FILE,
    read by the default SSL context (verification stays on)."""
    assert dovecot_tls.certificate is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.certificate))
    return dovecot_tls


def _server(tls: Tls, dovecot: Dovecot, request: pytest.FixtureRequest) -> Dovecot:
    return dovecot if tls == "none" else request.getfixturevalue("trusted")


@pytest.mark.parametrize("tls", ["none", "tls", "starttls"])
def test_imap_reads_the_bytes_moves_what_is_filed_and_leaves_a_reply_unread(
    tls: Tls, dovecot: Dovecot, request: pytest.FixtureRequest
) -> None:
    server = _server(tls, dovecot, request)
    user = server.new_user()
    server.append(user, BOUNCE)
    server.append(user, REPLY)
    server.append(user, BOUNCE.replace(b"ABC", b"DEF"))
    settings = mailbox_settings(server, user, "imap", tls)
    with open_mailbox(settings, user.password) as reader:
        ids = reader.ids()
        assert len(ids) == 3
        assert reader.fetch(ids[0]) == BOUNCE, "the bytes exactly as the server holds them"
        assert reader.fetch(ids[1]) == REPLY
        reader.file(ids[0], "processed")
        reader.file(ids[1], "kept")
        reader.file(ids[2], "unrecognised")
        assert reader.fetch(ids[0]) is None, "moved away"
    assert server.folder(user, "INBOX") == [(REPLY, set())], "the reply stays, unread"
    assert [raw for raw, _flags in server.folder(user, "processed")] == [BOUNCE]
    assert len(server.folder(user, "unrecognised")) == 1
    with open_mailbox(settings, user.password) as reader:
        assert len(reader.ids()) == 1, "the same ids in the next session"
        assert reader.ids() == [ids[1]]


@pytest.mark.parametrize("tls", ["none", "tls", "starttls"])
def test_pop3_reads_the_bytes_and_deletes_only_what_is_filed(
    tls: Tls, dovecot: Dovecot, request: pytest.FixtureRequest
) -> None:
    server = _server(tls, dovecot, request)
    user = server.new_user()
    server.append(user, BOUNCE)
    server.append(user, REPLY)
    settings = mailbox_settings(server, user, "pop3", tls)
    with open_mailbox(settings, user.password) as reader:
        first, second = reader.ids()
        assert reader.fetch(first) == BOUNCE, "dot-stuffing undone, bytes kept"
        assert reader.fetch(second) == REPLY
        reader.file(first, "processed")
        reader.file(second, "kept")
    assert [raw for raw, _flags in server.folder(user)] == [REPLY]
    with open_mailbox(settings, user.password) as reader:
        assert reader.ids() == [second], "a UIDL survives the session"


def test_pop3_keeps_a_filed_message_until_quit(dovecot: Dovecot) -> None:
    """A deletion is only marked until QUIT: a session that dies first deletes nothing."""
    user = dovecot.new_user()
    dovecot.append(user, BOUNCE)
    client = poplib.POP3("127.0.0.1", dovecot.pop3_port, timeout=10)
    client.user(user.username)
    client.pass_(user.password)
    client.dele(1)
    client.close()  # no QUIT
    assert len(dovecot.folder(user)) == 1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_an_untrusted_certificate_is_refused(protocol: str, dovecot_tls: Dovecot) -> None:
    user = dovecot_tls.new_user()
    settings = mailbox_settings(dovecot_tls, user, protocol, "tls")  # type: ignore[arg-type]
    with (
        pytest.raises(MailboxError, match="certificate is not trusted"),
        open_mailbox(settings, user.password),
    ):
        pass


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_a_wrong_password_is_a_clear_error_without_the_password(
    protocol: str, dovecot: Dovecot
) -> None:
    user = dovecot.new_user()
    settings = mailbox_settings(dovecot, user, protocol, "none")  # type: ignore[arg-type]
    with pytest.raises(MailboxError) as caught, open_mailbox(settings, "wrong-secret-123"):
        pass
    message = str(caught.value)
    assert "login refused" in message and user.username in message
    assert "wrong-secret-123" not in message
    assert "NEWSLETTER_BOUNCE_PASSWORD" in message


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_a_server_that_is_down_names_the_mailbox(protocol: str) -> None:
    port = free_port()
    settings = BounceMailbox(
        protocol=protocol,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        username="bounces",
        tls="none",
    )
    name = f"{protocol}://bounces@127.0.0.1:{port}"
    with pytest.raises(MailboxError, match=name), open_mailbox(settings, "secret"):
        pass
