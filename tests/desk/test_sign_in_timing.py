"""The sign-in answer takes the same time for an editor as for a stranger: whether to mail,
and the mail itself, happen off the request path. Shown against a mail server that takes
a second per mail: if the answer waited for it, an editor's would take a second."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from tests.conftest import Project, serve_command, smtp_relay
from tests.desk.conftest import EDITOR
from tests.web.conftest import csrf_of

STRANGER = "neugierig@example.org"
ROUNDS = 10
SLOW_S = 1.0


class SlowMailbox:
    def __init__(self) -> None:
        self.received: list[list[str]] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(SLOW_S)
        self.received.append(list(envelope.rcpt_tos))
        return "250 2.0.0 Queued"


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowMailbox, int]]:
    mailbox = SlowMailbox()
    with smtp_relay(mailbox) as port:
        yield mailbox, port


def test_the_sign_in_answer_does_not_wait_for_the_mail(
    ready_project: Project, slow_smtp: tuple[SlowMailbox, int]
) -> None:
    mailbox, port = slow_smtp

    def change(raw: dict[str, object]) -> None:
        raw["editors"] = [EDITOR]
        raw["provider"].update(  # type: ignore[attr-defined]
            name="smtp", smtp={"host": "127.0.0.1", "port": port, "tls": "none"}
        )
        raw["rate_limits"] = {"desk_sign_in": {"count": 1000, "window_s": 600}}

    ready_project.edit_config(change)
    times: dict[str, list[float]] = {EDITOR: [], STRANGER: []}
    with serve_command(ready_project) as (url, _):
        with httpx.Client(base_url=url, timeout=30) as client:
            csrf = csrf_of(client.get("/desk/sign-in").text)
            for _ in range(ROUNDS):
                for address in (EDITOR, STRANGER):
                    started = time.perf_counter()
                    answer = client.post("/desk/sign-in", data={"csrf": csrf, "email": address})
                    times[address].append(time.perf_counter() - started)
                    assert answer.status_code == 303
        deadline = time.monotonic() + 30
        while not mailbox.received:
            assert time.monotonic() < deadline, "the editor got no sign-in mail"
            time.sleep(0.1)
    editor, stranger = (statistics.median(times[a]) for a in (EDITOR, STRANGER))
    assert editor < 0.2 and stranger < 0.2, (editor, stranger)
    assert max(times[EDITOR]) < SLOW_S, times[EDITOR]
    assert all(STRANGER not in to for to in mailbox.received)
