"""The checks that gate every send: an issue that fails one is not built, let alone sent.

Errors stop the send; warnings are printed. Every finding names where it comes from: the
item's file or feed, the template, or the config key, and the variants it was seen in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urlsplit

from pipeline.config import Config
from pipeline.errors import SendRefused
from pipeline.issue.model import IssueItem
from pipeline.render.issue import HTML_TEMPLATE, TEXT_TEMPLATE, RenderedIssue
from pipeline.render.personalize import Personalizable, html_values, placeholder
from pipeline.render.tracking import untracked
from pipeline.send.compose import unsubscribe_headers

GMAIL_CLIP_BYTES = 102 * 1024
MAX_SUBJECT_CHARS = 78  # RFC 5322's recommended line length; longer subjects get cut
LEFTOVER_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|%%NL:|%\([a-z_]+\)s")
ALLOWED_LINK_SCHEMES = ("http", "https", "mailto")
Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    level: Level
    where: str
    """`content/2022-…md`, `feed "Name"`, `template issue.mjml.j2`, `config site.…`."""
    message: str
    variants: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def __str__(self) -> str:
        seen = f" [{', '.join(self.variants)}]" if self.variants else ""
        return f"{self.level}: {self.where}: {self.message}{seen}"


class PreflightFailed(SendRefused):
    def __init__(self, findings: Sequence[Finding]):
        self.findings = list(findings)
        errors = [str(f) for f in findings if f.is_error]
        super().__init__(
            f"preflight found {len(errors)} error(s), nothing was sent:\n  " + "\n  ".join(errors)
        )


def origin(item: IssueItem) -> str:
    """Where an editor finds the item: its file in the content folder, or its feed."""
    if item.key.startswith("folder:"):
        return f"content/{item.key.removeprefix('folder:')}"
    return f'feed "{item.source}"'


def sample_values(config: Config) -> dict[str, str]:
    """Per-reader values as long as real ones, so sizes and links are checked as sent."""
    token = "x" * 48
    return {
        "greeting": "Hallo Erika Mustermann,",
        "unsubscribe_url": f"{config.site.url}/unsubscribe/{token}",
        "preferences_url": f"{config.site.url}/preferences/{token}",
        "click": "c" * 38,  # a click token naming a reader who agreed to statistics
    }


def preflight(variants: Sequence[RenderedIssue], config: Config) -> list[Finding]:
    """Every finding across the variants, each once, listing the variants it was seen in."""
    seen: dict[tuple[Level, str, str], list[str]] = {}
    for variant in variants:
        for finding in check_variant(variant, config):
            keys = seen.setdefault((finding.level, finding.where, finding.message), [])
            if variant.variant_key not in keys:
                keys.append(variant.variant_key)
    findings = [
        Finding(level, where, msg, tuple(keys)) for (level, where, msg), keys in seen.items()
    ]
    return sorted(findings, key=lambda f: (not f.is_error, f.where))


def check_variant(variant: RenderedIssue, config: Config) -> list[Finding]:
    items = variant.content.items if variant.content is not None else ()
    values = sample_values(config)
    page = Personalizable.parse(variant.html).fill(html_values(values))
    text = Personalizable.parse(variant.text).fill(values)
    findings: list[Finding] = []
    if not items:
        findings.append(_error("issue", "the issue has no items"))
    if not variant.subject.strip():
        findings.append(_error("config issue.subject", "the subject is empty"))
    elif len(variant.subject) > MAX_SUBJECT_CHARS:
        findings.append(
            Finding("warning", "config issue.subject",
                    f"the subject has {len(variant.subject)} characters; mail apps cut it "
                    f"after about {MAX_SUBJECT_CHARS}")
        )  # fmt: skip
    size = len(page.encode("utf-8"))
    if size > GMAIL_CLIP_BYTES:
        findings.append(
            _error(
                "issue",
                f"the HTML is {size // 1024} KB; Gmail clips mails over 102 KB "
                "(lower issue.max_items_per_section)",
            )
        )
    if not text.strip():
        findings.append(_error(f"template {TEXT_TEMPLATE}", "the plain-text part is empty"))
    findings += _leftovers(page, HTML_TEMPLATE, items) + _leftovers(text, TEXT_TEMPLATE, items)
    # The destinations behind tracked links are checked, as the reader reaches them.
    destinations = {link.position: link.url for link in variant.links}
    shown = Personalizable.parse(untracked(variant.html, config.site.url, destinations))
    findings += _check_links_and_images(shown.fill(html_values(values)), items)
    findings += _check_footer(variant, page, text, config)
    return findings


def _error(where: str, message: str) -> Finding:
    return Finding("error", where, message)


def _item_with(items: Sequence[IssueItem], needle: str) -> IssueItem | None:
    """The item whose own text or links contain `needle`, if one does."""
    for item in items:
        fields = (item.title, item.summary, item.body_html, item.link, item.image,
                  item.event_online_url, item.event_location)  # fmt: skip
        if any(needle in (value or "") or needle in html.unescape(value or "") for value in fields):
            return item
    return None


def _leftovers(rendered: str, template: str, items: Sequence[IssueItem]) -> list[Finding]:
    findings = []
    for match in LEFTOVER_SYNTAX.finditer(html.unescape(rendered)):
        item = _item_with(items, match.group())
        where = origin(item) if item is not None else f"template {template}"
        findings.append(_error(where, f"leftover template syntax {match.group()!r}"))
    return findings


class _LinksAndImages(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and "href" in found:
            self.links.append(found["href"] or "")
        elif tag == "img":
            self.images.append(found)


def links_in(page: str) -> list[str]:
    parser = _LinksAndImages()
    parser.feed(page)
    return parser.links


def _check_links_and_images(page: str, items: Sequence[IssueItem]) -> list[Finding]:
    parser = _LinksAndImages()
    parser.feed(page)
    findings = []
    for url in parser.links:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ALLOWED_LINK_SCHEMES or (scheme != "mailto" and "//" not in url):
            item = _item_with(items, url)
            where = origin(item) if item is not None else f"template {HTML_TEMPLATE}"
            findings.append(_error(where, f"link {url!r} is not an absolute http(s) address"))
    for image in parser.images:
        src = image.get("src") or ""
        item = _item_with(items, src) if src else None
        where = origin(item) if item is not None else f"template {HTML_TEMPLATE}"
        if "alt" not in image or image["alt"] is None:
            findings.append(_error(where, f"image {src!r} has no alt text"))
        elif not image["alt"].strip() and item is not None and src == item.image:
            # alt="" marks an image as decorative; an item's own picture carries content.
            findings.append(_error(where, f"image {src!r} has no alt text (set image_alt)"))
    return findings


def _check_footer(variant: RenderedIssue, page: str, text: str, config: Config) -> list[Finding]:
    findings = []
    first_line = config.site.postal_address.strip().splitlines()[0].strip() if (
        config.site.postal_address.strip()) else ""  # fmt: skip
    if not first_line:
        findings.append(_error("config site.postal_address", "the postal address is empty"))
    else:
        for rendered, template in ((html.unescape(page), HTML_TEMPLATE), (text, TEXT_TEMPLATE)):
            if first_line not in rendered:
                findings.append(_error(f"template {template}", "the postal address is missing"))
    unsubscribe = placeholder("unsubscribe_url")
    for body, template in ((variant.html, HTML_TEMPLATE), (variant.text, TEXT_TEMPLATE)):
        if unsubscribe not in body:
            findings.append(_error(f"template {template}", "the unsubscribe link is missing"))
    headers = unsubscribe_headers(config.site, sample_values(config)["unsubscribe_url"])
    if "List-Unsubscribe" not in headers or "List-Unsubscribe-Post" not in headers:
        findings.append(_error("pipeline.send.compose", "the List-Unsubscribe header is missing"))
    elif not headers["List-Unsubscribe"].startswith("<https://"):
        findings.append(
            _error("config site.base_url", "one-click unsubscribe (RFC 8058) needs https")
        )
    return findings
