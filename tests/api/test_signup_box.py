"""docs/api.md's sign-up box, copied as a website would, in headless Chromium: served
from a page server of its own on another origin, used with the keyboard alone, calling the
live API; from an origin not in `api.cors_origins` the browser is refused and says so."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from subscribers import gdpr
from tests.api.conftest import Api, api_site
from tests.conftest import REPO, Project
from tests.web.browser import Page, axe_violations, chromium
from tests.web.conftest import confirm_link, press_button

DOCS = REPO / "docs" / "api.md"
DOCS_API = "https://newsletter.example.org/api/v1/subscribers"
DOCS_TOKEN = "nlapi_REPLACE_WITH_THE_SIGNUP_TOKEN"
FAILED = "Die Anmeldung hat gerade nicht geklappt."
ADDRESS = "box@example.org"


def the_box() -> str:
    """The ```html block under the heading "A sign-up box for the website"."""
    section = DOCS.read_text(encoding="utf-8").split("### A sign-up box for the website", 1)
    assert len(section) == 2, "docs/api.md has no sign-up box section"
    found = re.search(r"```html\n(.*?)\n```", section[1], re.DOTALL)
    assert found, "the sign-up box section has no html block"
    return found.group(1)


@dataclass
class PageServer:
    """A loopback web server for one page, as the network's website is one."""

    html: str = ""
    origin: str = ""

    def serve(self) -> Iterator[PageServer]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = owner.html.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()

    def show(self, api: Api, token: str) -> None:
        box = the_box()
        assert box.count(DOCS_API) == 1 and box.count(DOCS_TOKEN) == 1, box
        box = box.replace(DOCS_API, f"{api.url}/subscribers").replace(DOCS_TOKEN, token)
        self.html = (
            '<!doctype html><html lang="de"><head><meta charset="utf-8">'
            "<title>Newsletter des Quartiersnetzes</title></head>"
            f"<body><main><h1>Newsletter</h1>{box}</main>"
            "</body></html>"
        )


@dataclass
class Box:
    api: Api
    allowed: PageServer
    foreign: PageServer


@pytest.fixture(params=["sqlite"])
def box(request: pytest.FixtureRequest, project: Project) -> Iterator[Box]:
    """The API, a page server whose origin it allows, and one whose origin it does not."""
    for allowed in PageServer().serve():
        for foreign in PageServer().serve():
            for api in api_site(request, project, (allowed.origin,)):
                token = api.token("subscribers:signup", name="website-signup")
                allowed.show(api, token)
                foreign.show(api, token)
                yield Box(api, allowed, foreign)


def press(page: Page, key: str, code: str, key_code: int, text: str = "") -> None:
    for kind in ("keyDown", "keyUp"):
        page.call(
            "Input.dispatchKeyEvent",
            type=kind,
            key=key,
            code=code,
            windowsVirtualKeyCode=key_code,
            **({"text": text} if text and kind == "keyDown" else {}),
        )


def tab(page: Page) -> str:
    """Tab to the next field; the id of the field that has the focus."""
    press(page, "Tab", "Tab", 9)
    return str(page.evaluate("document.activeElement.id"))


def sign_up_by_keyboard(page: Page, url: str) -> str:
    """Type the address, tick consent, send with Enter: what the live region says then."""
    page.call("Emulation.setFocusEmulationEnabled", enabled=True)
    page.call("Page.navigate", url=url)
    page.wait_for("document.readyState === 'complete' && !!document.forms[0]")
    assert tab(page) == "newsletter-email"
    page.call("Input.insertText", text=ADDRESS)
    assert tab(page) == "newsletter-name"
    page.call("Input.insertText", text="Bea")
    assert tab(page) == "newsletter-consent"
    press(page, " ", "Space", 32, " ")
    assert page.evaluate("document.activeElement.checked") is True
    assert tab(page) == ""  # the button has no id
    assert page.evaluate("document.activeElement.type") == "submit"
    press(page, "Enter", "Enter", 13, "\r")
    page.wait_for(
        "!['', 'Einen Moment bitte …'].includes("
        "document.getElementById('newsletter-answer').textContent)",
        timeout_s=10,
    )
    live = page.evaluate(
        "[document.getElementById('newsletter-answer').getAttribute('aria-live'),"
        " document.getElementById('newsletter-answer').textContent]"
    )
    assert live[0] == "polite"
    return str(live[1])


def test_the_docs_box_signs_up_from_the_website_by_keyboard(box: Box, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        assert axe_violations(page, box.allowed.origin) == []
        answer = sign_up_by_keyboard(page, box.allowed.origin)
        # In the page's language (the box sends locale "de").
        assert answer == (
            "Wenn die Adresse den Newsletter empfangen kann, ist eine Mail mit einem "
            "Bestätigungslink unterwegs. Das Abonnement beginnt, sobald Sie darin auf den "
            "Knopf drücken."
        )
        # The box empties itself for the next reader.
        assert page.evaluate("document.getElementById('newsletter-email').value") == ""
    site = box.api.site
    assert site.state(ADDRESS) == "pending"
    with site.client() as browser:
        assert press_button(browser, confirm_link(site, ADDRESS)).status_code == 200
    assert site.state(ADDRESS) == "active"
    assert site.subscriber(ADDRESS).name == "Bea"
    with site.engine.connect() as connection:
        exported = gdpr.export_person(connection, ADDRESS)
    assert exported is not None and exported["consent"]["source"] == "api:website-signup"


def test_the_box_on_an_origin_not_allowed_is_refused_and_says_so(box: Box, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        answer = sign_up_by_keyboard(page, box.foreign.origin)
    assert answer.startswith(FAILED)
    time.sleep(0.3)
    assert box.api.site.state(ADDRESS) is None
    assert box.api.site.mails_to(ADDRESS) == []
