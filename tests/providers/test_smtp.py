"""SMTP through a real aiosmtpd server: STARTTLS, login, a pooled connection, DKIM
signatures that verify, and refusals sorted into per-message, retry and stop."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from pipeline.errors import PermanentProviderError, RetryableProviderError
from pipeline.send.message import SendResult
from pipeline.send.providers.smtp import DkimKey, SmtpProvider, SmtpServer
from tests.providers.conftest import make_messages, run

PASSWORD = "smtp-secret"


@dataclass
class Mailbox:
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    peers: set[object] = field(default_factory=set)

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if address.startswith("invalid"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert envelope.content is not None
        if any(address.startswith("shutdown") for address in envelope.rcpt_tos):
            return "421 4.3.2 Service shutting down"
        content = (
            envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        )
        self.received.append((str(envelope.mail_from), list(envelope.rcpt_tos), content))
        self.peers.add(session.peer)
        return "250 2.0.0 Queued"


def _authenticate(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"news"
        and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Keys:
    cert: Path
    key: Path
    dkim_key: Path
    dkim_txt: bytes


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    cert, key, dkim_key = folder / "cert.pem", folder / "key.pem", folder / "dkim.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "genrsa", "-out", str(dkim_key), "2048"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(dkim_key), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    import base64

    return Keys(cert, key, dkim_key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))


@dataclass
class SmtpFixture:
    mailbox: Mailbox
    port: int
    client_tls: ssl.SSLContext


@pytest.fixture
def smtp_server(keys: Keys) -> Iterator[SmtpFixture]:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(keys.cert, keys.key)
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticate,
    )
    controller.start()
    client_tls = ssl.create_default_context(cafile=str(keys.cert))
    yield SmtpFixture(mailbox, port, client_tls)
    controller.stop()


def _provider(
    smtp: SmtpFixture,
    *,
    password: str = PASSWORD,
    dkim_key: DkimKey | None = None,
    max_batch: int = 1,
) -> SmtpProvider:
    server = SmtpServer(
        "127.0.0.1",
        smtp.port,
        "starttls",
        "news",
        password,
        timeout_s=5,
        tls_context=smtp.client_tls,
    )
    return SmtpProvider(server, max_batch=max_batch, connections=2, dkim_key=dkim_key)


def test_each_reader_gets_their_message_dkim_signed_over_one_pooled_connection(
    smtp_server: SmtpFixture, keys: Keys
) -> None:
    messages = make_messages(5, variants=("de", "en"))
    dkim_key = DkimKey.load("news2026", "news.example.org", keys.dkim_key)

    async def send_all(provider: SmtpProvider) -> list[SendResult]:
        results = []
        for message in messages:
            results += await provider.send_batch([message])
        return results

    results = run(lambda: _provider(smtp_server, dkim_key=dkim_key), send_all)  # type: ignore[arg-type]
    assert all(r.ok for r in results)
    assert len(smtp_server.mailbox.peers) == 1, "one connection, reused"
    received = {rcpts[0]: data for _sender, rcpts, data in smtp_server.mailbox.received}
    assert set(received) == {m.to_address for m in messages}

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news2026._domainkey.news.example.org."
        return keys.dkim_txt

    for message in messages:
        data = received[message.to_address]
        assert dkim.verify(data, dnsfunc=dns), "the DKIM signature verifies"
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        signed = parsed["DKIM-Signature"].replace(" ", "").lower()
        assert "list-unsubscribe:list-unsubscribe-post" in signed
        assert [a.addr_spec for a in parsed["To"].addresses] == [message.to_address]
        assert parsed["List-Unsubscribe"] == message.headers["List-Unsubscribe"]
        for kind, expected in (("html", message.html), ("plain", message.text)):
            part = parsed.get_body((kind,))
            assert part is not None
            assert _lines(part.get_content()) == _lines(expected)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def test_a_tampered_header_fails_dkim(smtp_server: SmtpFixture, keys: Keys) -> None:
    dkim_key = DkimKey.load("news2026", "news.example.org", keys.dkim_key)
    run(lambda: _provider(smtp_server, dkim_key=dkim_key), lambda p: p.send_batch(make_messages(1)))
    (_sender, _rcpts, data) = smtp_server.mailbox.received[0]
    tampered = data.replace(b"tok-1.sig", b"tok-2.sig", 1)
    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: keys.dkim_txt)


def test_a_refused_address_fails_only_that_message(smtp_server: SmtpFixture) -> None:
    messages = make_messages(3, invalid=(2,))
    results = run(lambda: _provider(smtp_server, max_batch=3), lambda p: p.send_batch(messages))
    assert [r.ok for r in results] == [True, False, True]
    assert "550" in (results[1].error or "")
    assert len(smtp_server.mailbox.received) == 2


def test_a_busy_mailbox_is_retryable(smtp_server: SmtpFixture) -> None:
    (message,) = make_messages(1)
    busy = type(message)(**{**message.__dict__, "to_address": "busy@example.org"})
    with pytest.raises(RetryableProviderError):
        run(lambda: _provider(smtp_server), lambda p: p.send_batch([busy]))


def test_a_wrong_password_stops_the_send(smtp_server: SmtpFixture) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        run(
            lambda: _provider(smtp_server, password="wrong"),
            lambda p: p.send_batch(make_messages(2)),
        )
    assert "wrong" not in str(caught.value)
    assert smtp_server.mailbox.received == []


def test_a_server_that_is_down_is_retryable() -> None:
    server = SmtpServer("127.0.0.1", _free_port(), "none", timeout_s=2)
    with pytest.raises(RetryableProviderError):
        run(lambda: SmtpProvider(server), lambda p: p.send_batch(make_messages(1)))


def test_a_line_break_in_a_header_field_is_refused(smtp_server: SmtpFixture) -> None:
    (message,) = make_messages(1)
    evil = dataclasses.replace(message, headers={"List-Unsubscribe": "<x>\r\nBcc: all@example.org"})
    (result,) = run(lambda: _provider(smtp_server), lambda p: p.send_batch([evil]))
    assert not result.ok and "header injection" in (result.error or "")
    assert smtp_server.mailbox.received == []


def test_mail_from_is_the_envelope_sender_and_from_stays_the_sender(
    smtp_server: SmtpFixture,
) -> None:
    messages = [
        dataclasses.replace(
            m, envelope_from=f"bounces+{m.headers['X-Newsletter-Delivery']}@news.example.org"
        )
        for m in make_messages(2)
    ]
    results = run(lambda: _provider(smtp_server, max_batch=2), lambda p: p.send_batch(messages))
    assert all(r.ok for r in results)
    received = smtp_server.mailbox.received
    assert [sender for sender, _rcpts, _data in received] == [m.envelope_from for m in messages]
    for _sender, _rcpts, data in received:
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert parsed["From"].addresses[0].addr_spec == "newsletter@news.example.org"


def test_a_line_break_in_the_envelope_sender_is_refused(smtp_server: SmtpFixture) -> None:
    (message,) = make_messages(1)
    evil = dataclasses.replace(
        message, envelope_from="bounces@news.example.org>\r\nRCPT TO:<all@example.org"
    )
    (result,) = run(lambda: _provider(smtp_server), lambda p: p.send_batch([evil]))
    assert not result.ok and "line break in envelope_from" in (result.error or "")
    assert smtp_server.mailbox.received == []


def test_a_lost_connection_mid_batch_never_sends_a_message_twice(smtp_server: SmtpFixture) -> None:
    messages = make_messages(3)
    messages[1] = dataclasses.replace(messages[1], to_address="shutdown@example.org")
    results = run(lambda: _provider(smtp_server, max_batch=3), lambda p: p.send_batch(messages))
    assert [r.ok for r in results] == [True, False, False]
    assert "connection lost" in (results[2].error or "")
    assert [rcpts for _s, rcpts, _d in smtp_server.mailbox.received] == [["reader1@example.org"]]


def test_implicit_tls(keys: Keys) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(keys.cert, keys.key)
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    controller.start()
    try:
        client_tls = ssl.create_default_context(cafile=str(keys.cert))
        server = SmtpServer("127.0.0.1", port, "tls", timeout_s=5, tls_context=client_tls)
        results = run(lambda: SmtpProvider(server), lambda p: p.send_batch(make_messages(1)))
    finally:
        controller.stop()
    assert results[0].ok
    assert len(mailbox.received) == 1
