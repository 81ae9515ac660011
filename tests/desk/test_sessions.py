"""Desk sessions live on the server: signing out, signing out everywhere and leaving
`editors:` end them at once, in a real `newsletter serve`, without a restart."""

from __future__ import annotations

import email
import email.policy
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from pipeline.web.desk.pages import SESSION_COOKIE
from tests.conftest import TEST_SECRET_KEY, Project, serve_command
from tests.desk.conftest import EDITOR
from tests.web.conftest import csrf_of

OTHER_EDITOR = "layout@netzwerk-quartier.example.org"


@pytest.fixture
def desk_project(ready_project: Project) -> Project:
    ready_project.edit_config(lambda raw: raw.update(editors=[EDITOR, OTHER_EDITOR]))
    return ready_project


def _mails_to(project: Project, address: str) -> list[str]:
    found = []
    for path in sorted(project.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    return found


def sign_in(project: Project, url: str, address: str = EDITOR) -> str:
    """Sign in through the mailed link; the session cookie's value."""
    with httpx.Client(base_url=url, timeout=30) as client:
        before = len(_mails_to(project, address))
        form = client.get("/desk/sign-in")
        client.post("/desk/sign-in", data={"csrf": csrf_of(form.text), "email": address})
        deadline = time.monotonic() + 20
        while len(mails := _mails_to(project, address)) <= before:
            assert time.monotonic() < deadline, "no sign-in mail"
            time.sleep(0.05)
        found = re.search(r"https?://\S+(/desk/sign-in/\S+)", mails[-1])
        assert found
        opened = client.get(found.group(1))
        answer = client.post(found.group(1), data={"csrf": csrf_of(opened.text)})
        assert answer.status_code == 303, answer.text
        return answer.cookies[SESSION_COOKIE]


def desk_get(url: str, cookie: str, path: str = "/desk") -> httpx.Response:
    return httpx.get(f"{url}{path}", cookies={SESSION_COOKIE: cookie}, timeout=30)


def desk_post(url: str, cookie: str, path: str, csrf: str) -> httpx.Response:
    return httpx.post(
        f"{url}{path}", cookies={SESSION_COOKIE: cookie}, data={"csrf": csrf}, timeout=30
    )


def signed_out(answer: httpx.Response) -> bool:
    return answer.status_code == 303 and answer.headers["location"].startswith("/desk/sign-in")


@contextmanager
def serving(
    project: Project, reload_s: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    secrets = {"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY}
    if reload_s is not None:
        secrets["NEWSLETTER_EDITORS_RELOAD_S"] = reload_s
    with serve_command(project, secrets=secrets) as running:
        yield running


def test_a_cookie_replayed_after_sign_out_is_signed_out(desk_project: Project) -> None:
    with serving(desk_project) as (url, _):
        cookie = sign_in(desk_project, url)
        page = desk_get(url, cookie)
        assert page.status_code == 200
        csrf = csrf_of(page.text)
        assert desk_post(url, cookie, "/desk/sign-out", csrf).status_code == 303
        assert signed_out(desk_get(url, cookie))
        assert desk_post(url, cookie, "/desk/items/1/state/hold", csrf).status_code == 401


def test_a_form_token_of_an_ended_session_is_refused(desk_project: Project) -> None:
    with serving(desk_project) as (url, _):
        first = sign_in(desk_project, url)
        old_csrf = csrf_of(desk_get(url, first).text)
        assert desk_post(url, first, "/desk/sign-out", old_csrf).status_code == 303
        second = sign_in(desk_project, url)
        refused = desk_post(url, second, "/desk/items/1/state/hold", old_csrf)
        assert refused.status_code == 403
        fresh = csrf_of(desk_get(url, second).text)
        assert fresh != old_csrf


def test_sign_out_everywhere_ends_the_other_browsers_session(desk_project: Project) -> None:
    with serving(desk_project) as (url, _):
        laptop = sign_in(desk_project, url)
        phone = sign_in(desk_project, url)
        other_editor = sign_in(desk_project, url, OTHER_EDITOR)
        listing = desk_get(url, laptop, "/desk/sessions?lang=en")
        assert listing.status_code == 200
        assert listing.text.count("<tr") == 3  # the header and two sessions
        assert "this browser" in listing.text
        answer = desk_post(url, laptop, "/desk/sessions/sign-out-everywhere", csrf_of(listing.text))
        assert signed_out(answer)
        assert signed_out(desk_get(url, phone))
        assert signed_out(desk_get(url, laptop))
        assert desk_get(url, other_editor).status_code == 200


def _remove_other_editor(project: Project) -> None:
    project.edit_config(lambda raw: raw.update(editors=[EDITOR]))


def _until(check: object, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_an_editor_removed_from_the_config_is_signed_out_on_sighup(desk_project: Project) -> None:
    with serving(desk_project) as (url, process):
        cookie = sign_in(desk_project, url, OTHER_EDITOR)
        kept = sign_in(desk_project, url)
        _remove_other_editor(desk_project)
        process.send_signal(signal.SIGHUP)
        _until(lambda: signed_out(desk_get(url, cookie)))
        assert desk_get(url, kept).status_code == 200
        assert process.poll() is None


def test_an_editor_removed_from_the_config_is_signed_out_by_the_timer(
    desk_project: Project,
) -> None:
    with serving(desk_project, reload_s="0.5") as (url, _):
        cookie = sign_in(desk_project, url, OTHER_EDITOR)
        _remove_other_editor(desk_project)
        _until(lambda: signed_out(desk_get(url, cookie)))


def test_a_broken_config_on_reload_keeps_the_old_list_and_says_so(desk_project: Project) -> None:
    with serving(desk_project) as (url, process):
        cookie = sign_in(desk_project, url)
        desk_project.config_path.write_text("editors: [unclosed\n", encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert desk_get(url, cookie).status_code == 200
        assert process.poll() is None
    output = process.stdout.read().decode()  # type: ignore[union-attr]
    assert str(desk_project.config_path) in output
    assert "the editors' list is kept as it was" in output


def test_a_config_that_is_not_utf8_on_reload_keeps_the_watcher_alive(
    desk_project: Project,
) -> None:
    """After a file saved in Latin-1, the next good file is still read."""
    with serving(desk_project) as (url, process):
        cookie = sign_in(desk_project, url, OTHER_EDITOR)
        good = desk_project.config_path.read_bytes()
        desk_project.config_path.write_bytes(good + b"# Stra\xdfe\n")
        process.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert desk_get(url, cookie).status_code == 200
        desk_project.config_path.write_bytes(good)
        _remove_other_editor(desk_project)
        process.send_signal(signal.SIGHUP)
        _until(lambda: signed_out(desk_get(url, cookie)))
        assert process.poll() is None
    output = process.stdout.read().decode()  # type: ignore[union-attr]
    assert "not UTF-8 text" in output
