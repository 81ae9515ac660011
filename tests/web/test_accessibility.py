"""axe-core (the checker in browsers' accessibility tools) over the readers' pages, each
loaded as served in headless Chromium. A page fails on any violation, whatever its impact.

A bounded set by default; `A11Y_FULL=1` (`make test-full`) checks every page in both
languages. The desk's pages: tests/desk/test_accessibility.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.tokens import make_token
from tests.web.browser import axe_violations, chromium
from tests.web.conftest import SECRET_KEY, Site
from tests.web.test_archive_page import send_one_issue

FULL = os.environ.get("A11Y_FULL") == "1"
READER = "leser@example.org"  # the reader send_one_issue sends to

# {issue}: the sent issue's number; {unsubscribe}, {preferences}: the reader's links.
PAGES = [
    "/subscribe?lang=de",
    "/submit?lang=de",
    "/archive?lang=de",
    "/archive/{issue}?lang=de",
    "/preferences/{preferences}?lang=de",
]
MORE_PAGES = [
    "/subscribe?lang=en",
    "/submit?lang=en",
    "/archive?lang=en",
    "/archive/{issue}?lang=en",
    "/preferences/{preferences}?lang=en",
    "/unsubscribe/{unsubscribe}?lang=de",
    "/unsubscribe/{unsubscribe}?lang=en",
    "/keine-seite?lang=de",
]


def test_readers_pages_have_no_accessibility_violations(site: Site, tmp_path: Path) -> None:
    number, _titles = send_one_issue(site)
    reader = site.subscriber(READER).id
    links = {
        "issue": number,
        "unsubscribe": make_token(SECRET_KEY, "unsubscribe", reader),
        "preferences": make_token(SECRET_KEY, "preferences", reader),
    }
    with chromium(tmp_path / "profile") as page:
        found = {
            path: axe_violations(page, site.url + path.format(**links))
            for path in PAGES + (MORE_PAGES if FULL else [])
        }
    assert {path: problems for path, problems in found.items() if problems} == {}
