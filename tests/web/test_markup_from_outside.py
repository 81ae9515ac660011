"""Markup from a feed never gets past the sanitiser into a mail or the archive.

Every case of feedparser's sanitisation suite and a set of mutation-XSS payloads go out in
one issue, as feed entries: collected over HTTP, rendered, sent to the outbox and served on
`/archive/<n>`. The mail's HTML and the archive page are then parsed as a browser parses
them (html5lib, the WHATWG algorithm). An issue of the sample content, sent first through
the same template, shows what the template itself writes; beyond that only what the
sanitiser allows may appear: its elements, its attributes, its URL schemes.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import html5lib
import pytest

from pipeline import db
from pipeline.collect import collect
from pipeline.collect.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_SCHEMES, ALLOWED_TAGS
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from tests.collect.conftest import FeedServer, Route, running_server
from tests.conftest import Project
from tests.web.conftest import SECRET_KEY, Site, make_site

FIXTURES = Path(__file__).parent.parent / "fixtures"
# What one card adds to the mail's HTML around its body, and what an issue may carry.
CARD_BYTES = 3_000
ISSUE_BUDGET_BYTES = 80_000
MAX_ENTRIES_PER_ISSUE = 25
CARD_IMAGE = '<img src="https://ok.example/karte.png" alt="Karte">'
# What a template writes once per page, whose number an item must not change.
NEVER_FROM_AN_ITEM = {
    "script", "style", "meta", "link", "base", "form", "input", "button", "textarea",
    "select", "option", "iframe", "frame", "object", "embed", "svg", "math", "template",
    "noscript", "title", "area", "map", "audio", "video", "source", "applet", "marquee",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "data", "cite"}
# Added after the sanitiser, on the way to MJML: inline styles, and rel on every link.
ADDED_ATTRIBUTES = {"style", "rel"}


def payloads() -> list[str]:
    corpus = json.loads((FIXTURES / "feedparser-sanitize.json").read_text())
    cases = [html for found in corpus["cases"].values() for html in found]
    cases += json.loads((FIXTURES / "mxss-payloads.json").read_text())
    # Preflight holds back an issue with an image that has no alt text: give them one.
    return [re.sub(r"<img\b(?![^>]*\balt=)", '<img alt="Bild"', case) for case in cases]


def attack_feed(entries: list[str]) -> bytes:
    items = "".join(
        # No link: a card without one shows the entry's own HTML.
        f'<item><title>Prüffall {number}</title><guid isPermaLink="false">fall-{number}</guid>'
        f"<description>{escape(body)}</description></item>"
        for number, body in enumerate(entries, start=1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Prüffeed</title><link>https://ok.example/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def site(project: Project, feed_server: FeedServer) -> Iterator[Site]:
    def change(raw: dict[str, Any]) -> None:
        raw["sources"]["feeds"] = [
            {"name": "Prüffeed", "url": feed_server.url("/feed.xml"), "kind": "news"}
        ]
        raw["collect"] = {"timeout_s": 10, "max_age_days": None}
        raw["issue"]["max_items_per_section"] = 100

    project.edit_config(change)
    feed_server.routes["/feed.xml"] = Route(attack_feed([]))
    yield from make_site(project, webhook_secrets={})


def send_issue(site: Site) -> int:
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    return built.number


def mail_html(site: Site, number: int) -> str:
    for path in site.project.outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if re.search(rf"Ausgabe {number}\b", str(message["Subject"])):
            return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    raise AssertionError(f"no mail of issue {number} in the outbox")


def elements(page: str) -> list[Element]:
    tree = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    return [element for element in tree.iter() if isinstance(element.tag, str)]


def local_name(name: str) -> str:
    """`{http://www.w3.org/2000/svg}svg` as `svg`: foreign elements count by their name."""
    return name.rsplit("}", 1)[-1]


def scheme_of(url: str) -> str | None:
    """The scheme a browser reads: tabs and newlines removed, leading controls and spaces cut."""
    cleaned = re.sub(r"[\t\n\r]", "", url).lstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08 \x0b\x0c")
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", cleaned)
    return match.group(1).lower() if match else None


def what_the_template_writes(page: str) -> tuple[Counter[str], dict[str, set[str]], set[str]]:
    tags: Counter[str] = Counter()
    attributes: dict[str, set[str]] = {}
    styles: set[str] = set()
    for element in elements(page):
        tag = local_name(element.tag)
        tags[tag] += 1
        attributes.setdefault(tag, set()).update(map(local_name, element.attrib))
        styles.add(element.get("style", ""))
    return tags, attributes, styles


def intrusions(page: str, template_page: str) -> list[str]:
    """Everything in `page` that neither the template nor the sanitiser's allowlist accounts for."""
    template_tags, template_attributes, _styles = what_the_template_writes(template_page)
    found: list[str] = []
    tags: Counter[str] = Counter()
    for element in elements(page):
        tag = local_name(element.tag)
        tags[tag] += 1
        if tag not in template_tags and tag not in ALLOWED_TAGS and tag != "span":
            found.append(f"element <{tag}>")
        allowed = (
            template_attributes.get(tag, set())
            | ALLOWED_ATTRIBUTES.get(tag, set())
            | ALLOWED_ATTRIBUTES["*"]
            | ADDED_ATTRIBUTES
        )
        for name, value in element.attrib.items():
            name = local_name(name)
            if name.startswith("on") or name not in allowed:
                found.append(f"attribute {name}= on <{tag}>")
            if name in URL_ATTRIBUTES and (scheme_of(value) or "https") not in ALLOWED_SCHEMES:
                found.append(f"URL scheme {scheme_of(value)}: in <{tag} {name}>")
            if name == "style" and re.search(r"url\(|expression|behavior|javascript", value, re.I):
                found.append(f"style {value!r} on <{tag}>")
    for tag in NEVER_FROM_AN_ITEM:
        if tags[tag] != template_tags[tag]:
            found.append(f"{tags[tag]} <{tag}> where the template writes {template_tags[tag]}")
    return found


def test_no_markup_from_a_feed_gets_past_the_sanitiser_into_mail_or_archive(
    site: Site, feed_server: FeedServer
) -> None:
    site.add_active("leser@example.org", name="Lea")
    template_issue = send_issue(site)
    with site.client() as client:
        template_archive = client.get(f"/archive/{template_issue}").text
    # One case per entry, so that none can hide another (an unclosed <script> takes the rest
    # of its entry with it). Each opens with an image that has alt text: preflight holds
    # back a card image without.
    entries = [f"{CARD_IMAGE}<p>Fall {index}:</p>{case}" for index, case in enumerate(payloads())]
    sent = 0
    for batch in issues_of(entries):
        # All entries so far stay in the feed; what was sent is not selected again.
        feed_server.routes["/feed.xml"] = Route(attack_feed(entries[: sent + len(batch)]))
        number = send_issue(site)
        with site.client() as client:
            archive = client.get(f"/archive/{number}")
        assert archive.status_code == 200
        pages = {"mail": mail_html(site, number), "archive": archive.text}
        templates = {"mail": mail_html(site, template_issue), "archive": template_archive}
        for where, page in pages.items():
            # Every entry went out, body and all: the check below has something to find.
            for entry in range(sent + 1, sent + len(batch) + 1):
                assert f"Prüffall {entry}<" in page, f"entry {entry} is missing from the {where}"
                assert f"Fall {entry - 1}:" in page, f"entry {entry}'s body is not in the {where}"
            assert intrusions(page, templates[where]) == [], f"issue {number}, {where}"
        sent += len(batch)
    assert sent == len(entries)


def issues_of(entries: list[str]) -> Iterator[list[str]]:
    """Entries in issues that stay under Gmail's 102 KB clip, which preflight enforces."""
    batch: list[str] = []
    size = 0
    for entry in entries:
        cost = len(entry.encode()) + CARD_BYTES
        if batch and (size + cost > ISSUE_BUDGET_BYTES or len(batch) == MAX_ENTRIES_PER_ISSUE):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += cost
    if batch:
        yield batch


@pytest.mark.parametrize(
    "payload",
    [
        '<abbr title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</abbr>',
        '<abbr title="&quot;&gt;&lt;meta http-equiv=refresh '
        "content='0;url=https://evil.example/'&gt;\">x</abbr>",
    ],
)
def test_a_quote_in_an_attribute_stays_inside_it(
    site: Site, feed_server: FeedServer, payload: str
) -> None:
    """The review's case: `"` in a title once ended the attribute after MRML re-quoted it."""
    site.add_active("leser@example.org")
    feed_server.routes["/feed.xml"] = Route(attack_feed([f"<p>Vorher {payload} nachher</p>"]))
    number = send_issue(site)
    with site.client() as client:
        archive = client.get(f"/archive/{number}").text
    for page in (mail_html(site, number), archive):
        found = elements(page)
        abbrs = [element for element in found if element.tag == "abbr"]
        assert len(abbrs) == 1 and abbrs[0].get("title", "").startswith('">')
        assert "script" not in {element.tag for element in found}
        refresh = [meta for meta in found if meta.get("http-equiv", "").lower() == "refresh"]
        assert not refresh and "Vorher" in page and "nachher" in page
