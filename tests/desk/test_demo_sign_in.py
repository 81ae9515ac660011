"""Signing in on a demo: `newsletter serve` on loopback with the outbox says where each
part of the site is, and shows a sign-in link for its own address once one is asked for
(the mailed link names site.base_url, which a demo does not serve)."""

from __future__ import annotations

import re
import subprocess
import threading
import time

import httpx

from tests.conftest import Project, serve_command
from tests.desk.conftest import EDITOR
from tests.web.conftest import csrf_of


def _lines_of(process: subprocess.Popen[bytes]) -> list[str]:
    """The process's output lines as they come, read on a thread of their own."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: list[str], pattern: str) -> re.Match[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in list(lines):
            if found := re.search(pattern, line):
                return found
        time.sleep(0.1)
    raise AssertionError(f"no line matches {pattern!r}: {lines}")


def test_a_demo_says_where_everything_is_and_how_to_sign_in(project: Project) -> None:
    project.edit_config(lambda raw: raw.update(editors=[EDITOR]))
    project.run("db", "upgrade")
    with serve_command(project) as (url, process):
        lines = _lines_of(process)
        _wait_for(lines, "Uvicorn running")
        with httpx.Client(base_url=url, timeout=30) as client:
            form = client.get("/desk/sign-in")
            asked = client.post("/desk/sign-in", data={"csrf": csrf_of(form.text), "email": EDITOR})
            sent_page = client.get(asked.headers["location"]).text
            shown = _wait_for(lines, r"the sign-in mail is (\S+\.eml); open (\S+) to sign in")
            opened = client.get(shown.group(2))
    assert f"  Sign-up:       {url}/subscribe" in lines
    assert f"  Archive:       {url}/archive" in lines
    assert any(line.startswith(f"  Editors' desk: {url}/desk ") for line in lines)
    assert any("Development site: mails are written to" in line for line in lines)
    assert "Entwicklungsumgebung" in sent_page and "newsletter serve" in sent_page
    # The outbox file holds the mail; the link shown is for this server, and opens its page.
    mail = project.outbox / shown.group(1).rpartition("/")[2]
    assert mail.exists()
    assert shown.group(2).startswith(f"{url}/desk/sign-in/")
    token = shown.group(2).rpartition("/")[2]
    assert token in mail.read_text(encoding="utf-8").replace("=\n", "")
    assert opened.status_code == 200 and "<button" in opened.text


def test_a_site_that_sends_for_real_shows_no_sign_in_links(project: Project) -> None:
    def change(raw: dict[str, object]) -> None:
        raw["editors"] = [EDITOR]
        raw["provider"] = {"name": "smtp", "smtp": {"host": "127.0.0.1", "port": 2525}}

    project.edit_config(change)
    project.run("db", "upgrade")
    with serve_command(project) as (url, process):
        lines = _lines_of(process)
        _wait_for(lines, "Uvicorn running")
        with httpx.Client(base_url=url, timeout=30) as client:
            sent_page = client.get("/desk/sign-in/sent").text
    assert not any("Development site" in line for line in lines)
    assert "Entwicklungsumgebung" not in sent_page
