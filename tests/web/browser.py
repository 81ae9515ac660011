"""Headless Chromium driven through the DevTools protocol over its WebSocket.

No Playwright: Debian's chromium and the `websockets` client are all it takes. Chromium
picks its own debugging port (`--remote-debugging-port=0`) and writes it to
DevToolsActivePort in the profile folder, so parallel test runs never collide.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / ".tools/axe/node_modules/axe-core/axe.min.js"
"""axe-core, installed by `make test` from tests/a11y/package.json."""
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
)


class Page:
    def __init__(self, socket: ClientConnection):
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv(timeout=30))
            if reply.get("id") == number:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout_s}s: {expression}")
            time.sleep(0.1)


@contextmanager
def chromium(profile: Path) -> Iterator[Page]:
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its debugging port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(page_url, max_size=None, open_timeout=30) as socket:
            yield Page(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def axe_violations(page: Page, url: str) -> list[str]:
    """What axe-core finds wrong on the page at `url` once loaded, one line a rule: the
    rule, its impact, and (up to three of) the elements it found."""
    assert AXE.exists(), f"axe-core is not installed: run `make {AXE.relative_to(Path.cwd())}`"
    page.call("Page.navigate", url=url)
    page.wait_for("document.readyState === 'complete'")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.call(
        "Runtime.evaluate",
        expression="axe.run(document, {resultTypes: ['violations']})"
        ".then(r => JSON.stringify(r.violations))",
        awaitPromise=True,
        returnByValue=True,
    )
    return [
        f"{found['id']} ({found['impact']}): {found['help']} at "
        + ", ".join(" ".join(node["target"]) for node in found["nodes"][:3])
        for found in json.loads(result["result"]["value"])
    ]
