"""Every issue mail names its delivery where a bounce brings it back: the envelope sender
(SMTP MAIL FROM, the outbox's Return-Path), X-Newsletter-Delivery, the Message-ID and the
List-Unsubscribe mailto:. Read from what the far side gets: aiosmtpd's envelope and the raw
DATA bytes of a real `newsletter send`, the outbox file's bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

import dkim
import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline.tokens import (
    DELIVERY_TOKEN_LENGTH,
    DeliveryTokenMaker,
    InvalidToken,
    make_delivery_token,
    read_delivery_token,
)
from tests.conftest import TEST_SECRET_KEY, Project, smtp_relay
from tests.send.test_raw_headers import _dkim_key, header_lines, raw_fields

SENDER = "newsletter@netzwerk-quartier.example.org"
BOUNCES = "bounces@netzwerk-quartier.example.org"
"""`bounces.address` of the sample config.yaml."""
VERP = re.compile(r"bounces\+([a-z2-7]{23})@netzwerk-quartier\.example\.org")


@dataclass
class Recorder:
    """Each message as aiosmtpd got it: MAIL FROM, RCPT TO and the DATA bytes."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.received.append(
            (str(envelope.mail_from), list(envelope.rcpt_tos), envelope.original_content or b"")
        )
        return "250 2.0.0 Queued"


@pytest.fixture
def relay(ready_project: Project, tmp_path: Path) -> Iterator[tuple[Recorder, bytes]]:
    """The project sends through a loopback aiosmtpd, DKIM-signing; yields what it got and
    the DKIM key's DNS record."""
    key, txt = _dkim_key(tmp_path)
    recorder = Recorder()
    with smtp_relay(recorder) as port:
        smtp = {"host": "127.0.0.1", "port": port, "tls": "none", "dkim_key_file": str(key)}
        smtp |= {"dkim_selector": "news", "dkim_domain": "netzwerk-quartier.example.org"}
        ready_project.edit_config(lambda raw: raw["provider"].update(name="smtp", smtp=smtp))  # type: ignore[attr-defined]
        yield recorder, txt


def delivery_of(project: Project, address: str) -> tuple[int, int]:
    """The (delivery id, issue number) of the one delivery to `address`."""
    with project.engine().connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT d.id, i.number FROM deliveries d JOIN subscribers s ON s.id = "
                "d.subscriber_id JOIN issues i ON i.id = d.issue_id WHERE s.email = :e"
            ),
            {"e": address},
        ).one()
    return int(row[0]), int(row[1])


def test_smtp_mail_from_is_the_deliverys_verp_address(
    ready_project: Project, relay: tuple[Recorder, bytes]
) -> None:
    recorder, txt = relay
    ready_project.run("send")
    assert len(recorder.received) == 4
    for mail_from, (reader,), data in recorder.received:
        delivery_id, number = delivery_of(ready_project, reader)
        envelope = VERP.fullmatch(mail_from)
        assert envelope, mail_from
        token = envelope.group(1)
        assert read_delivery_token(TEST_SECRET_KEY, token) == delivery_id
        assert len(mail_from.partition("@")[0]) <= 64
        fields = raw_fields(data)
        assert fields["x-newsletter-delivery"] == [token]
        assert fields["message-id"] == [
            f"<issue{number}.d{delivery_id}.{token}@netzwerk-quartier.example.org>"
        ]
        (unsubscribe,) = fields["list-unsubscribe"]
        assert "=?" not in unsubscribe
        assert unsubscribe.endswith(f", <mailto:{BOUNCES}?subject=unsubscribe%20{token}>")
        # The raw field folds at its space, between the two URLs, never inside one.
        (first,) = [line for line in header_lines(data) if line.startswith(b"List-Unsubscribe:")]
        assert first.endswith(b">,") and b"mailto:" not in first
        assert f"\r\n <mailto:{BOUNCES}?subject=unsubscribe%20{token}>\r\n".encode() in data
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: txt), "DKIM verifies"
        signed = raw_fields(data)["dkim-signature"][0].replace(" ", "").replace("\t", "")
        assert "x-newsletter-delivery" in signed.lower()
        assert b"Return-Path" not in data, "the receiving server adds it, not the sender"


def test_without_verp_the_envelope_is_the_bare_bounce_address_and_headers_still_name_it(
    ready_project: Project, relay: tuple[Recorder, bytes]
) -> None:
    recorder, _txt = relay
    ready_project.edit_config(lambda raw: raw["bounces"].update(verp=False))  # type: ignore[attr-defined]
    ready_project.run("send")
    assert {mail_from for mail_from, _to, _data in recorder.received} == {BOUNCES}
    for _mail_from, (reader,), data in recorder.received:
        (token,) = raw_fields(data)["x-newsletter-delivery"]
        assert read_delivery_token(TEST_SECRET_KEY, token) == delivery_of(ready_project, reader)[0]


def test_without_a_bounce_address_the_sender_is_the_envelope_and_mailto_as_before(
    ready_project: Project, relay: tuple[Recorder, bytes]
) -> None:
    recorder, _txt = relay
    ready_project.edit_config(lambda raw: raw.pop("bounces"))
    ready_project.run("send")
    assert {mail_from for mail_from, _to, _data in recorder.received} == {SENDER}
    for _mail_from, (reader,), data in recorder.received:
        fields = raw_fields(data)
        (token,) = fields["x-newsletter-delivery"]
        assert read_delivery_token(TEST_SECRET_KEY, token) == delivery_of(ready_project, reader)[0]
        (unsubscribe,) = fields["list-unsubscribe"]
        link = re.fullmatch(r"<(https://\S+)>, <mailto:(\S+)>", unsubscribe)
        assert link, unsubscribe
        signed = link.group(1).rpartition("/")[2]
        assert link.group(2) == f"{SENDER}?subject=unsubscribe%20{signed}"


def test_the_longest_bounce_local_part_makes_a_64_octet_verp_local_part(
    ready_project: Project, relay: tuple[Recorder, bytes]
) -> None:
    recorder, _txt = relay
    local = "b" * (64 - 1 - DELIVERY_TOKEN_LENGTH)
    ready_project.edit_config(
        lambda raw: raw["bounces"].update(address=f"{local}@netzwerk-quartier.example.org")  # type: ignore[attr-defined]
    )
    ready_project.run("send")
    assert recorder.received
    for mail_from, _to, _data in recorder.received:
        verp_local = mail_from.partition("@")[0]
        assert len(verp_local) == 64 and verp_local.startswith(local + "+")


def test_a_test_mail_names_no_delivery_and_bounces_to_the_sender(
    ready_project: Project, relay: tuple[Recorder, bytes]
) -> None:
    recorder, txt = relay
    ready_project.run("test-send", "--to", "redaktion@example.org")
    ((mail_from, _to, data),) = recorder.received
    assert mail_from == SENDER
    assert dkim.verify(data, dnsfunc=lambda name, timeout=5: txt), "DKIM verifies"
    fields = raw_fields(data)
    assert "x-newsletter-delivery" not in fields
    assert not VERP.search(data.decode("utf-8", "replace"))


def test_outbox_files_start_with_the_return_path_of_their_delivery(
    ready_project: Project,
) -> None:
    ready_project.run("send")
    files = sorted(ready_project.outbox.glob("issue*.eml"))
    assert len(files) == 4
    for path in files:
        data = path.read_bytes()
        first, _, rest = data.partition(b"\r\n")
        envelope = re.fullmatch(rb"Return-Path: <(\S+)>", first)
        assert envelope, first
        address = envelope.group(1).decode()
        match = VERP.fullmatch(address)
        assert match, address
        token = match.group(1)
        assert b"Return-Path" not in rest, "one Return-Path, the first line"
        fields = raw_fields(data)
        assert fields["x-newsletter-delivery"] == [token]
        reader = parseaddr(fields["to"][0])[1]
        delivery_id, number = delivery_of(ready_project, reader)
        assert read_delivery_token(TEST_SECRET_KEY, token) == delivery_id
        assert path.name == f"issue{number}.d{delivery_id}.{token}.eml"


def test_a_bounce_address_with_no_room_for_the_token_is_refused_by_name(
    project: Project,
) -> None:
    local = "b" * (64 - DELIVERY_TOKEN_LENGTH)  # one too many: the VERP local part is 65
    project.edit_config(
        lambda raw: raw["bounces"].update(address=f"{local}@netzwerk-quartier.example.org")  # type: ignore[attr-defined]
    )
    result = project.run("collect", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "bounces.address" in line
    assert f"its local part '{local}' leaves no room for the 23-character token" in line
    assert "64 characters" in line


def test_the_send_signer_makes_the_tokens_of_make_delivery_token() -> None:
    rotated = ("an-old-secret", "the-new-secret")
    maker = DeliveryTokenMaker(rotated)
    for delivery_id in [0, 1, 7, 31, 32, 1023, 1024, 123_456, 2**31, 2**32 - 1]:
        token = maker(delivery_id)
        assert token == make_delivery_token(rotated, delivery_id)
        assert read_delivery_token(rotated, token) == delivery_id
        assert read_delivery_token("the-new-secret", token) == delivery_id
        with pytest.raises(InvalidToken):
            read_delivery_token("an-old-secret", token)
