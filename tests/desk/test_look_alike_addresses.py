"""Desk sign-in through a real `newsletter serve`: a look-alike address is not an editor's.

`preße-netzwerk.de` is a different domain from `presse-netzwerk.de` (IDNA 2008 keeps the
ß; `casefold()` and Python's IDNA 2003 codec map it to "ss"), which anyone may register.
The sign-in link goes only to the address as `editors:` lists it, never as typed.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Project, serve_command
from tests.web.conftest import csrf_of

EDITOR = "anna@presse-netzwerk.de"
LOOK_ALIKE = "anna@preße-netzwerk.de"


@pytest.fixture
def served(ready_project: Project) -> Iterator[str]:
    def change(raw: dict[str, object]) -> None:
        raw["editors"] = [EDITOR]
        raw["rate_limits"] = {"desk_sign_in": {"count": 50, "window_s": 600}}

    ready_project.edit_config(change)
    with serve_command(ready_project) as (url, _process):
        yield url


def ask_for_link(url: str, typed: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        form = client.get("/desk/sign-in")
        answer = client.post("/desk/sign-in", data={"csrf": csrf_of(form.text), "email": typed})
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].startswith("/desk/sign-in/sent")


def outbox_mails(outbox: Path, count: int, timeout_s: float = 20) -> list[bytes]:
    """The raw bytes of the outbox's mails, once there are `count` of them, oldest first."""
    deadline = time.monotonic() + timeout_s
    while True:
        files = sorted(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
        if len(files) >= count or time.monotonic() > deadline:
            return [path.read_bytes() for path in files]
        time.sleep(0.05)


def raw_header(mail: bytes, name: str) -> str:
    found = re.search(rb"^" + name.encode() + rb": (.*)$", mail, re.MULTILINE | re.IGNORECASE)
    assert found, mail[:400]
    return found.group(1).decode().strip()


def test_a_look_alike_domain_is_mailed_no_sign_in_link(served: str, ready_project: Project) -> None:
    outbox = ready_project.outbox
    before = len(outbox_mails(outbox, 0))
    ask_for_link(served, LOOK_ALIKE)
    # The mails go out in request order: the look-alike's would be there before this one.
    ask_for_link(served, EDITOR)
    mails = outbox_mails(outbox, before + 1)
    time.sleep(0.3)
    mails = outbox_mails(outbox, before + 1)
    assert len(mails) == before + 1, "a sign-in link went to the look-alike address"
    assert raw_header(mails[-1], "To") == EDITOR
    assert b"/desk/sign-in/" in mails[-1]
    assert not any(b"xn--pree" in mail or "preße".encode() in mail for mail in mails)


def test_the_same_address_in_capitals_gets_the_link_at_the_listed_address(
    served: str, ready_project: Project
) -> None:
    """Only A-Z fold (docs/operations.md): the link goes to the address as listed."""
    before = len(outbox_mails(ready_project.outbox, 0))
    ask_for_link(served, "ANNA@Presse-Netzwerk.DE")
    mails = outbox_mails(ready_project.outbox, before + 1)
    assert len(mails) == before + 1
    assert raw_header(mails[-1], "To") == EDITOR


def test_the_link_signs_in_as_the_listed_editor(served: str, ready_project: Project) -> None:
    before = len(outbox_mails(ready_project.outbox, 0))
    ask_for_link(served, EDITOR)
    mail = outbox_mails(ready_project.outbox, before + 1)[-1]
    assert raw_header(mail, "To") == EDITOR
    parsed = email.message_from_bytes(mail, policy=email.policy.default)
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https?://\S+/desk/sign-in/(\S+)", text)
    assert link, text
    path = f"/desk/sign-in/{link.group(1)}"
    with httpx.Client(base_url=served, timeout=30) as client:
        opened = client.get(path)
        assert opened.status_code == 200
        pressed = client.post(path, data={"csrf": csrf_of(opened.text)})
        assert pressed.status_code == 303
        client.cookies.set("desk_session", pressed.cookies["desk_session"])
        desk = client.get("/desk", follow_redirects=False)
        assert desk.status_code == 200 and EDITOR in desk.text


NOT_ADDRESSES = [
    "anna@presse-netzwerk.de\r\nBcc: x@evil.example",
    "anna＠presse-netzwerk.de",  # a fullwidth at-sign
    "anna@xn--zzzz.de",  # not a valid A-label
    "@presse-netzwerk.de",
    "an\x00na@presse-netzwerk.de",
    "a" * 250 + "@presse-netzwerk.de",
]


def test_an_address_that_is_no_address_gets_a_field_error(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as client:
        for typed in NOT_ADDRESSES:
            form = client.get("/desk/sign-in?lang=en")
            answer = client.post(
                "/desk/sign-in?lang=en", data={"csrf": csrf_of(form.text), "email": typed}
            )
            assert answer.status_code == 400, typed
            assert "valid email address" in answer.text, typed
