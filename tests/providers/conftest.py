"""Fixtures for the provider tests: messages with tricky per-recipient values, fake APIs on
loopback, and Stoplight Prism serving the providers' own OpenAPI files."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from pipeline.render.personalize import Personalizable
from pipeline.send.message import BodyTemplate, OutgoingMessage
from pipeline.send.providers.base import Provider
from pipeline.tokens import make_delivery_token
from tests.providers.fake_http import FakeServer, Handler

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO.parent / "shared" / "provider-specs" / "specs"
PRISM_DIR = REPO / ".tools" / "prism"
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"
T = TypeVar("T")

HTML = (
    '<html><body><p style="width:100%">%%NL:greeting%%</p><p>Neues aus dem Quartier</p>'
    '<a href="%%NL:unsubscribe_url%%">Abmelden</a> '
    '<a href="%%NL:preferences_url%%">Einstellungen</a></body></html>'
)
TEXT = "%%NL:greeting%%\n\nNeues aus dem Quartier\n\nAbmelden: %%NL:unsubscribe_url%%\n"
NAMES = ["Anna Schmidt", "Ömer & Co <Büro>", "", 'Jan "JJ" Kowalski, Jr.', "Zoë O'Brien"]


def variant(key: str = "de") -> BodyTemplate:
    subject = "Neues aus dem Netzwerk – Ausgabe 7" if key == "de" else "Network news – issue 7"
    html = HTML if key == "de" else HTML.replace("Abmelden", "Unsubscribe")
    return BodyTemplate(key, subject, Personalizable.parse(html), Personalizable.parse(TEXT))


def make_messages(
    count: int,
    *,
    start: int = 1,
    invalid: tuple[int, ...] = (),
    variants: tuple[str, ...] = ("de",),
) -> list[OutgoingMessage]:
    templates = {key: variant(key) for key in variants}
    messages = []
    for number in range(start, start + count):
        name = NAMES[number % len(NAMES)]
        address = f"invalid-{number}" if number in invalid else f"reader{number}@example.org"
        unsubscribe = f"https://news.example.org/unsubscribe/tok-{number}.sig"
        messages.append(
            OutgoingMessage(
                delivery_id=number,
                delivery_key=f"7-{number}",
                to_address=address,
                to_name=name,
                from_address="newsletter@news.example.org",
                from_name="Netzwerk Quartier",
                reply_to="redaktion@news.example.org",
                variant=templates[variants[number % len(variants)]],
                values={
                    "greeting": f"Hallo {name}," if name else "Hallo,",
                    "unsubscribe_url": unsubscribe,
                    "preferences_url": f"https://news.example.org/preferences/pref-{number}.sig",
                },
                message_id=f"<issue7.d{number}@news.example.org>",
                envelope_from="bounces@news.example.org",
                headers={
                    "X-Newsletter-Delivery": make_delivery_token("provider-tests", number),
                    "List-Unsubscribe": f"<{unsubscribe}>, <mailto:abmelden@news.example.org"
                    f"?subject=unsubscribe%20tok-{number}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        )
    return messages


def run(factory: Callable[[], Provider], action: Callable[[Provider], Awaitable[T]]) -> T:
    """Make the provider inside a fresh event loop, act, and always close it."""

    async def main() -> T:
        provider = factory()
        try:
            return await action(provider)
        finally:
            await provider.close()

    return asyncio.run(main())


@pytest.fixture
def fake_server() -> Iterator[Callable[[Handler], FakeServer]]:
    servers: list[FakeServer] = []

    def start(handler: Handler) -> FakeServer:
        server = FakeServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert not server.errors, f"the fake API saw a wrong request: {server.errors}"


def install_prism() -> Path:
    """Prism 5.14.2 from the npm registry into .tools/prism (git-ignored), once."""
    if PRISM.exists():
        return PRISM
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to install Stoplight Prism for the contract tests")
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(REPO / "tests" / "prism" / name, PRISM_DIR / name)
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=PRISM_DIR, check=True
    )
    return PRISM


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def prism() -> Iterator[Callable[[str], str]]:
    """Start Prism on a spec file once per session; returns its base URL."""
    prism = install_prism()
    running: dict[str, tuple[subprocess.Popen[str], str]] = {}

    def serve(spec: str) -> str:
        if spec in running:
            return running[spec][1]
        port = _free_port()
        process = subprocess.Popen(
            [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPECS / spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        seen = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if "Prism is listening" in line:
                break
            if not line and process.poll() is not None:
                raise RuntimeError("Prism did not start:\n" + "".join(seen))
        else:
            process.kill()
            raise RuntimeError("Prism did not start in 60 s:\n" + "".join(seen))
        running[spec] = (process, f"http://127.0.0.1:{port}")
        # Keep reading its log so the pipe never fills up.
        drain = subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
        running[spec + ":drain"] = (drain, "")
        return running[spec][1]

    yield serve
    for process, _url in running.values():
        process.terminate()
    for process, _url in running.values():
        process.wait(10)
