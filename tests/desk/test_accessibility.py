"""axe-core over the editors' desk, signed out and signed in, in headless Chromium (see
tests/web/test_accessibility.py for the readers' pages and `A11Y_FULL`)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.desk.conftest import item_id, sign_in_browser
from tests.web.browser import axe_violations, chromium
from tests.web.conftest import Site

FULL = os.environ.get("A11Y_FULL") == "1"

SIGNED_OUT = ["/desk/sign-in?lang=de"]
# {item}: an item of the queue.
PAGES = [
    "/desk?lang=de",
    "/desk/items/{item}/edit?lang=de",
    "/desk/items/new?kind=event&lang=de",
    "/desk/issues?lang=de",
]
MORE_PAGES = [
    "/desk?lang=en",
    "/desk/items/{item}/edit?lang=en",
    "/desk/items/new?lang=en",
    "/desk/items/{item}/drop?lang=de",
    "/desk/sessions?lang=de",
    "/desk/issue?lang=de",
]


def test_desk_pages_have_no_accessibility_violations(desk: Site, tmp_path: Path) -> None:
    item = item_id(desk, "folder:2022-03-01-editorial.md")
    with chromium(tmp_path / "profile") as page:
        found = {path: axe_violations(page, desk.url + path) for path in SIGNED_OUT}
        sign_in_browser(page, desk)
        for path in PAGES + (MORE_PAGES if FULL else []):
            found[path] = axe_violations(page, desk.url + path.format(item=item))
    assert {path: problems for path, problems in found.items() if problems} == {}
