"""`newsletter bounces check` as an operator runs it, against aiosmtpd relays that take
`+` senders, refuse them (at MAIL FROM, or at RCPT TO as Postfix does by default), refuse
the bounce address itself, or are not there; and over STARTTLS with the sending login."""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline.tokens import DELIVERY_TOKEN_LENGTH
from tests.conftest import TEST_SECRET_KEY, Project, free_port
from tests.providers.test_smtp import PASSWORD, Keys, _authenticate, keys  # noqa: F401

BOUNCES = "bounces@netzwerk-quartier.example.org"
PLUS_REFUSED = "553 5.7.1 Sender address rejected: not owned by user news"


@dataclass
class Relay:
    """Takes every sender unless told otherwise; keeps what it was asked."""

    refuse_plus_at: str | None = None
    """`MAIL` or `RCPT`: refuse a sender with a `+` there."""
    refuse_all: bool = False
    plus_reply: str = PLUS_REFUSED
    senders: list[str] = field(default_factory=list)
    recipients: list[tuple[str, str]] = field(default_factory=list)
    messages: int = 0

    async def handle_MAIL(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        self.senders.append(address)
        if self.refuse_all:
            return "550 5.7.1 Relaying denied"
        if self.refuse_plus_at == "MAIL" and "+" in address:
            return self.plus_reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        self.recipients.append((str(envelope.mail_from), address))
        if self.refuse_plus_at == "RCPT" and "+" in str(envelope.mail_from):
            return self.plus_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.messages += 1
        return "250 2.0.0 Queued"


@pytest.fixture
def start_relay(project: Project) -> Iterator[Callable[..., Relay]]:
    """Starts a relay on loopback and points the project's provider.smtp at it."""
    controllers: list[Controller] = []

    def start(relay: Relay, **extra: object) -> Relay:
        port = free_port()
        smtp = {"host": "127.0.0.1", "port": port, "tls": "none"}
        if extra.pop("starttls", False):
            smtp |= {"tls": "starttls", "username": "news"}
        project.edit_config(lambda raw: raw["provider"].update(name="smtp", smtp=smtp))  # type: ignore[attr-defined]
        controller = Controller(relay, hostname="127.0.0.1", port=port, **extra)  # type: ignore[arg-type]
        controller.start()
        controllers.append(controller)
        return relay

    yield start
    for controller in controllers:
        controller.stop()


def check(project: Project, **secrets: str) -> tuple[int, str, str]:
    result = project.run(
        "bounces",
        "check",
        check=False,
        in_process=False,
        secrets={"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY, **secrets},
    )
    return result.returncode, result.stdout, result.stderr


def verp_senders(relay: Relay) -> list[str]:
    token = f"[a-z2-7]{{{DELIVERY_TOKEN_LENGTH}}}"
    shape = re.compile(rf"bounces\+{token}@netzwerk-quartier\.example\.org")
    return [sender for sender in relay.senders if shape.fullmatch(sender)]


def test_a_relay_that_takes_verp_senders_is_matched_by_envelope(
    project: Project, start_relay: Callable[..., Relay]
) -> None:
    relay = start_relay(Relay())
    code, out, err = check(project)
    assert code == 0, out + err
    assert "accepts VERP senders" in out and "matched by their envelope" in out
    assert relay.senders[0] == BOUNCES and len(verp_senders(relay)) == 1
    assert len(relay.senders) == 2
    # Each sender is offered to the bounce address itself, and nothing is sent.
    assert [recipient for _sender, recipient in relay.recipients] == [BOUNCES, BOUNCES]
    assert relay.messages == 0


@pytest.mark.parametrize("stage", ["MAIL", "RCPT"])
def test_a_relay_that_refuses_plus_senders_stops_a_send_that_would_use_them(
    project: Project, start_relay: Callable[..., Relay], stage: str
) -> None:
    relay = start_relay(Relay(refuse_plus_at=stage))
    code, out, err = check(project)
    assert code == 1, out + err
    assert "refuses `+` senders" in err and PLUS_REFUSED in err
    assert "set bounces.verp: false" in err
    assert "X-Newsletter-Delivery, Message-ID" in err
    assert relay.messages == 0


@pytest.mark.parametrize("stage", ["MAIL", "RCPT"])
def test_with_verp_off_a_refusing_relay_means_matching_by_headers_only(
    project: Project, start_relay: Callable[..., Relay], stage: str
) -> None:
    project.edit_config(lambda raw: raw["bounces"].update(verp=False))  # type: ignore[attr-defined]
    start_relay(Relay(refuse_plus_at=stage))
    code, out, err = check(project)
    assert code == 0, out + err
    (line,) = out.strip().splitlines()
    assert "refuses `+` senders" in line
    assert line.endswith(
        "bounces will be matched by the returned headers (X-Newsletter-Delivery, Message-ID) only."
    )


def test_a_relay_that_puts_off_the_verp_sender_is_not_taken_as_an_answer(
    project: Project, start_relay: Callable[..., Relay]
) -> None:
    start_relay(Relay(refuse_plus_at="MAIL", plus_reply="451 4.3.0 Try again later"))
    code, out, err = check(project)
    assert code == 1, out + err
    assert "put off the VERP sender" in err and "451 4.3.0 Try again later" in err


def test_a_relay_that_refuses_the_bounce_address_itself_fails(
    project: Project, start_relay: Callable[..., Relay]
) -> None:
    relay = start_relay(Relay(refuse_all=True))
    code, out, err = check(project)
    assert code == 1, out + err
    assert f"refuses the bounce address {BOUNCES} as sender" in err
    assert "550 5.7.1 Relaying denied" in err
    assert relay.senders == [BOUNCES], "nothing more is asked"


def test_an_unreachable_relay_fails(project: Project) -> None:
    port = free_port()  # nothing listens there
    smtp = {"host": "127.0.0.1", "port": port, "tls": "none"}
    project.edit_config(lambda raw: raw["provider"].update(name="smtp", smtp=smtp))  # type: ignore[attr-defined]
    code, out, err = check(project)
    assert code == 1, out + err
    assert f"cannot connect to 127.0.0.1:{port}" in err


def test_the_check_logs_in_over_starttls_as_a_send_does(
    project: Project,
    start_relay: Callable[..., Relay],
    keys: Keys,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(keys.cert, keys.key)
    relay = start_relay(
        Relay(),
        starttls=True,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticate,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(keys.cert))  # the relay's own certificate
    code, out, err = check(project, NEWSLETTER_PROVIDER_TOKEN=PASSWORD)
    assert code == 0, out + err
    assert "accepts VERP senders" in out
    code, out, err = check(project, NEWSLETTER_PROVIDER_TOKEN="wrong")
    assert code == 1, out + err
    assert "login refused for 'news'" in err
    assert PASSWORD not in out + err and "wrong" not in out + err
    assert len(relay.senders) == 2, "the refused login asked nothing"


def test_no_bounce_address_is_a_config_error(
    project: Project, start_relay: Callable[..., Relay]
) -> None:
    relay = start_relay(Relay())
    project.edit_config(lambda raw: raw.pop("bounces"))
    code, out, err = check(project)
    assert code == 2, out + err
    assert "bounces.address is not set" in err
    assert not relay.senders


def test_a_provider_other_than_smtp_has_nothing_to_check(project: Project) -> None:
    code, out, err = check(project)
    assert code == 0, out + err
    assert "provider.name is outbox" in out and "Nothing to check" in out
    project.edit_config(lambda raw: raw["provider"].update(name="postmark"))  # type: ignore[attr-defined]
    code, out, err = check(project)
    assert code == 0, out + err
    assert "provider.name is postmark, not smtp" in out and "/webhooks/postmark" in out
