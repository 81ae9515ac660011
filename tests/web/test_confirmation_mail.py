"""The confirmation mail goes to any address a stranger types: it carries nothing they typed.

A sign-up with the name "Gewinn! Besuchen Sie https://evil.example/win" for somebody
else's address must not make `newsletter serve` mail that text in our name. The raw mail
is read from the outbox and its parts decoded from their transfer encoding by hand
(quoted-printable or base64), then searched, headers included.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Project, serve_command
from tests.web.conftest import post_sign_up

EVIL_NAME = "Gewinn! Besuchen Sie https://evil.example/win"


def _raw_mail(outbox: Path, timeout_s: float = 20) -> bytes:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = list(outbox.glob("*.eml"))
        if files:
            return files[0].read_bytes()
        time.sleep(0.1)
    raise AssertionError("no confirmation mail in the outbox")


def _decoded_parts(data: bytes) -> list[str]:
    """The header block and every leaf part's body, each decoded from its transfer encoding."""
    head, _, body = data.partition(b"\r\n\r\n")
    boundary = re.search(rb'boundary="([^"]+)"', head)
    assert boundary, head
    texts = [head.decode("ascii")]
    for part in body.split(b"--" + boundary.group(1))[1:-1]:
        part_head, _, content = part.strip(b"\r\n").partition(b"\r\n\r\n")
        encoding = re.search(rb"Content-Transfer-Encoding: (\S+)", part_head, re.I)
        kind = encoding.group(1).lower() if encoding else b"7bit"
        if kind == b"quoted-printable":
            content = quopri.decodestring(content)
        elif kind == b"base64":
            content = binascii.a2b_base64(content)
        texts.append(content.decode("utf-8"))
    assert len(texts) == 3, "a plain-text and an HTML part"
    return texts


@pytest.mark.parametrize(("locale", "greeting"), [("de", "Guten Tag,"), ("en", "Hello,")])
def test_the_confirmation_mail_echoes_no_name_typed_into_the_form(
    project: Project, locale: str, greeting: str
) -> None:
    project.run("db", "upgrade")
    with serve_command(project) as (url, _process):
        with httpx.Client(base_url=url, timeout=30) as client:
            answer = post_sign_up(client, "opfer@example.org", name=EVIL_NAME, locale=locale)
        assert answer.status_code == 200
        data = _raw_mail(project.outbox)
    head, plain, html = _decoded_parts(data)
    assert "opfer@example.org" in head and "/confirm/" in plain and "/confirm/" in html
    assert plain.lstrip().startswith(greeting), plain[:80]
    encoded_name = base64.b64encode(EVIL_NAME.encode()).decode()
    for text in (head, plain, html):
        for needle in ("Gewinn", "evil.example", "Besuchen", encoded_name[:12]):
            assert needle not in text, f"{needle!r} is in the confirmation mail"
