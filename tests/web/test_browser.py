"""The sign-up form submitted once in headless Chromium, against `newsletter serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from subscribers import store
from tests.conftest import NEWSLETTER, Project
from tests.web.browser import chromium


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(project: Project) -> Iterator[str]:
    """The real command, `newsletter serve`, as an operator starts it."""
    project.run("db", "upgrade")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["NEWSLETTER_SECRET_KEY"] = "browser-test-key"
    process = subprocess.Popen(
        [NEWSLETTER, "serve", "--port", str(port), "--config", str(project.config_path)],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "newsletter serve did not answer"
        time.sleep(0.2)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_reader_signs_up_in_a_real_browser(served: str, project: Project, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        page.call("Page.navigate", url=f"{served}/subscribe?lang=de")
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('form')")
        page.evaluate(
            "document.querySelector('#email').value = 'browser@example.org';"
            "document.querySelector('#name').value = 'Bea';"
            "document.querySelector('#topic-partner').click();"
            "document.querySelector('#consent').click();"
            "document.querySelector('button[type=submit]').click();"
        )
        page.wait_for("location.pathname === '/subscribe/thanks'")
        page.wait_for("document.readyState === 'complete'")
        heading = page.evaluate("document.querySelector('h1').textContent")
    assert heading == "Bitte sehen Sie in Ihr Postfach"
    engine = project.engine()
    with engine.connect() as connection:
        found = store.find(connection, "browser@example.org")
    engine.dispose()
    assert found is not None and found.state == "pending" and found.name == "Bea"
    assert sorted(found.topics) == ["netzwerk", "veranstaltungen"]
    deadline = time.monotonic() + 20
    while not list(project.outbox.glob("confirm.*.eml")):
        assert time.monotonic() < deadline, "no confirmation mail in the outbox"
        time.sleep(0.1)
