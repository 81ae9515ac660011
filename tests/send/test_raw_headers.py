"""List-Unsubscribe as Gmail and Yahoo read it: the raw bytes of real sends, never decoded.

A site on an ~90-character base URL makes every unsubscribe link longer than a line; the
email package used to RFC 2047-encode the whole field then (`=?utf-8?q?=3Chttps=3A//...`),
which its own parser decodes, so only the raw bytes show it. Here the header lines are
read from the bytes and unfolded per RFC 5322 alone, for each raw-MIME path: the outbox
file, SMTP as aiosmtpd receives it (DKIM-signed, and the signature verifies), and the
one-click POST of the link against a real `newsletter serve`.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from pathlib import Path

import dkim
import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from pipeline.config import MAX_BASE_URL, Site
from pipeline.send.compose import ReaderLinks, unsubscribe_headers
from pipeline.send.headers import fold, problem
from pipeline.send.providers.outbox import OutboxProvider
from tests.conftest import Project, serve_command, smtp_relay
from tests.providers.conftest import make_messages, run

SAMPLE_BOUNCES = "bounces@netzwerk-quartier.example.org"
"""`bounces.address` of the sample config.yaml."""
LONG_BASE_URL = (
    "https://neuigkeiten.gemeinsam-fuer-das-quartier.vernetzungsinitiative-beispielstadt"
    ".example.org"
)


def header_lines(data: bytes) -> list[bytes]:
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b""), "every header line ends in CRLF"
    return head.split(b"\r\n")


def raw_fields(data: bytes) -> dict[str, list[str]]:
    """Each field's value, unfolded per RFC 5322 2.2.3 (a CRLF before white space goes)."""
    fields: dict[str, list[str]] = {}
    unfolded: list[bytes] = []
    for line in header_lines(data):
        if line[:1] in (b" ", b"\t"):
            unfolded[-1] += line
        else:
            unfolded.append(line)
    for line in unfolded:
        name, _, value = line.decode("ascii").partition(":")
        fields.setdefault(name.lower(), []).append(value.strip(" \t"))
    return fields


def assert_one_click_headers(data: bytes) -> str:
    """Checks the raw List-Unsubscribe fields; returns the https link."""
    for line in data.split(b"\r\n"):
        assert len(line) <= 998, "RFC 5322: no line over 998 characters"
    for line in header_lines(data):
        words = line.split()
        # Over 78 only where one word (a URL, with the field name before it) cannot fold.
        assert len(line) <= 78 or len(words) <= 2, line
    fields = raw_fields(data)
    (value,) = fields["list-unsubscribe"]
    assert "=?" not in value, f"List-Unsubscribe is RFC 2047-encoded: {value}"
    match = re.fullmatch(r"<(https://[^<>\s]+)>, <(mailto:[^<>\s]+)>", value)
    assert match, value
    https, mailto = match.groups()
    assert https.startswith(LONG_BASE_URL + "/unsubscribe/")
    assert len(https) > 78, "the link is longer than a line: the case that broke"
    delivery = fields.get("x-newsletter-delivery")
    if delivery:  # an issue's mail: to the sample config's bounce address, with its token
        assert mailto == f"mailto:{SAMPLE_BOUNCES}?subject=unsubscribe%20{delivery[0]}"
    else:  # a test mail names no delivery: the link's token, as before bounces
        assert mailto.startswith("mailto:") and https.rpartition("/")[2] in mailto
    assert fields["list-unsubscribe-post"] == ["List-Unsubscribe=One-Click"]
    (message_id,) = fields["message-id"]
    assert "=?" not in message_id and re.fullmatch(r"<[^<>\s]+@[^<>\s]+>", message_id)
    # Names are not ASCII: they must be RFC 2047 encoded, and decode to what was configured.
    (sender,) = fields["from"]
    assert str(make_header(decode_header(sender))).startswith(
        "Vernetzungsinitiative Gemeinsam für das Quartier <"
    )
    return https


@pytest.fixture
def long_url_project(ready_project: Project) -> Project:
    ready_project.edit_config(lambda raw: raw["site"].update(base_url=LONG_BASE_URL))  # type: ignore[attr-defined]
    return ready_project


def test_outbox_files_carry_list_unsubscribe_folded_never_encoded(
    long_url_project: Project,
) -> None:
    long_url_project.run("send")
    files = sorted(long_url_project.outbox.glob("*.eml"))
    assert len(files) == 4
    for path in files:
        assert_one_click_headers(path.read_bytes())


def test_the_raw_link_unsubscribes_in_one_click_against_serve(long_url_project: Project) -> None:
    long_url_project.run("send")
    data = sorted(long_url_project.outbox.glob("*.eml"))[0].read_bytes()
    https = assert_one_click_headers(data)
    (to,) = raw_fields(data)["to"]
    reader = re.search(r"<([^>]+)>", to).group(1)  # type: ignore[union-attr]
    with serve_command(long_url_project) as (url, _process):
        answer = httpx.post(
            url + https.removeprefix(LONG_BASE_URL),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
    assert answer.status_code < 300, answer.text
    with long_url_project.engine().connect() as connection:
        state = connection.execute(
            sa.text("SELECT state FROM subscribers WHERE email = :e"), {"e": reader}
        ).scalar_one()
    assert state == "unsubscribed"


@dataclass
class Mailbox:
    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(content)
        return "250 2.0.0 Queued"


def _dkim_key(folder: Path) -> tuple[Path, bytes]:
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_smtp_sends_list_unsubscribe_folded_and_dkim_still_verifies(
    long_url_project: Project, tmp_path: Path
) -> None:
    key, txt = _dkim_key(tmp_path)
    mailbox = Mailbox()
    with smtp_relay(mailbox) as port:
        smtp = {"host": "127.0.0.1", "port": port, "tls": "none"}
        smtp |= {"dkim_selector": "news", "dkim_domain": "netzwerk-quartier.example.org"}
        smtp["dkim_key_file"] = str(key)
        long_url_project.edit_config(lambda raw: raw["provider"].update(name="smtp", smtp=smtp))  # type: ignore[attr-defined]
        long_url_project.run("send")
    assert len(mailbox.received) == 4
    for data in mailbox.received:
        assert_one_click_headers(data)
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: txt), "DKIM verifies"
        signed = raw_fields(data)["dkim-signature"][0].replace(" ", "").replace("\t", "")
        assert "list-unsubscribe:list-unsubscribe-post:x-newsletter-delivery" in signed.lower()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"<https://example.org/unsubscribe/{'x' * 1000}>", "998"),
        ("<https://example.org/u>\r\nBcc: all@example.org", "header injection"),
        ("<https://bücher.example.org/u>", "printable ASCII"),
    ],
)
def test_a_list_unsubscribe_no_line_can_carry_is_refused_not_encoded(
    tmp_path: Path, value: str, reason: str
) -> None:
    (message,) = make_messages(1)
    bad = dataclasses.replace(message, headers={**message.headers, "List-Unsubscribe": value})
    outbox = tmp_path / "outbox"
    (result,) = run(lambda: OutboxProvider(outbox), lambda p: p.send_batch([bad]))
    assert not result.ok and reason in (result.error or ""), result.error
    assert not list(outbox.glob("*.eml")), "nothing was written"


def test_test_send_mails_carry_list_unsubscribe_folded_never_encoded(
    long_url_project: Project,
) -> None:
    long_url_project.run("test-send", "--to", "redaktion@example.org")
    (path,) = long_url_project.outbox.glob("*.eml")
    assert_one_click_headers(path.read_bytes())


def test_the_longest_base_url_config_allows_still_makes_a_sendable_list_unsubscribe() -> None:
    """`site.base_url`'s limit keeps every real List-Unsubscribe sendable: the longest base
    URL, the longest subscriber id, the largest issue number (which the links carry) and
    the longest mailbox still fold within 998."""
    mailbox = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 53}.example"
    site = Site.model_validate(
        {
            "name": "Netzwerk",
            "base_url": "https://example.org/" + "n" * (MAX_BASE_URL - len("https://example.org/")),
            "sender": {"name": "Netzwerk", "address": "news@example.org"},
            "unsubscribe_address": mailbox,
            "postal_address": "Musterstraße 1",
        }
    )
    assert len(str(site.base_url)) == MAX_BASE_URL
    links = ReaderLinks(site, "k" * 32, issue=2**31 - 1)(2**63 - 1)
    for name, value in unsubscribe_headers(site, links["unsubscribe_url"]).items():
        assert problem(name, value) is None
        lines = fold(name, value)
        assert all(len(line) <= 998 for line in lines)
        assert " ".join(lines).split(":", 1)[1].split() == value.split()
