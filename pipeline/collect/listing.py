"""A listing page's HTML into its entries, by the operator's CSS selectors (selectolax).

Pure: bytes and selectors in, entries out, so that `collect` and `sources try` read a page
alike and the rules need no server to test. `title`, `link`, `date`, `summary` and `image`
are looked for inside each entry; `link` takes the first `a[href]`, the matched element
itself or one inside it.
"""

from __future__ import annotations

import re
from codecs import lookup
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

import httpx
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.collect.german_dates import parse_german_date
from pipeline.collect.sanitize import sanitise_html
from pipeline.config import PageSelectors

URL_CHARS = 2000  # the store's limit for links and images
PARTS = ("title", "link", "date", "summary", "image")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)


@dataclass(frozen=True)
class ListingEntry:
    title: str
    link: str | None
    date: date | None
    date_text: str | None
    """The date as the page wrote it (for `sources try`), also when it could not be read."""
    summary_html: str | None
    """Sanitised, links made absolute."""
    image: str | None
    image_alt: str | None


@dataclass
class Listing:
    entries: list[ListingEntry] = field(default_factory=list)
    found: dict[str, int] = field(default_factory=dict)
    """For each configured part: in how many of the entries its selector found it."""
    without_title_or_link: int = 0
    """Entries skipped: neither a title nor a link."""


def decode_html(body: bytes, content_type: str | None) -> str:
    """The page as text: the header's charset, else the page's `<meta charset>`, else UTF-8
    (windows-1252 when that fails, as browsers read such pages)."""
    for match in (_HEADER_CHARSET.search(content_type or ""), _META_CHARSET.search(body[:2048])):
        if match is None:
            continue
        name = match[1].decode("ascii") if isinstance(match[1], bytes) else match[1]
        try:
            encoding = lookup(name).name
        except LookupError:
            continue
        if encoding in ("latin-1", "iso8859-1"):
            encoding = "cp1252"  # as the WHATWG encoding standard reads "iso-8859-1"
        return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def parse_listing(text: str, page_url: str, selectors: PageSelectors) -> Listing:
    tree = LexborHTMLParser(text)
    base_href = tree.css_first("base[href]")
    base = urljoin(page_url, (base_href.attributes.get("href") or "") if base_href else "")
    configured = [part for part in PARTS if getattr(selectors, part) is not None]
    listing = Listing(found=dict.fromkeys(configured, 0))
    for node in tree.css(selectors.entry):
        parts = {part: node.css_first(getattr(selectors, part)) for part in configured}
        entry = _entry(parts, base)
        if entry is None:
            listing.without_title_or_link += 1
            continue
        listing.entries.append(entry)
        for part in configured:
            listing.found[part] += _has(entry, part, parts)
    return listing


def _has(entry: ListingEntry, part: str, parts: dict[str, LexborNode | None]) -> bool:
    """Whether the part's selector gave the entry something (a title of its own, not the
    link's text; an image, not just an element)."""
    if part == "title":
        return bool(_text(parts["title"]))
    if part == "date":
        return entry.date_text is not None
    if part == "summary":
        return entry.summary_html is not None
    value: object = getattr(entry, part)
    return value is not None


def _entry(parts: dict[str, LexborNode | None], base: str) -> ListingEntry | None:
    title = _text(parts["title"])
    link = _link(parts["link"], base)
    if link is not None and not title:
        title = _text(_anchor(parts["link"]))
    if not title and link is None:
        return None
    date_node = parts.get("date")
    date_text = _date_text(date_node)
    summary = parts.get("summary")
    image = _image(parts.get("image"), base)
    return ListingEntry(
        title=title or link or "",
        link=link,
        date=parse_german_date(date_text) if date_text else None,
        date_text=date_text,
        summary_html=sanitise_html(summary.html or "", base_url=base) if summary else None,
        image=image[0] if image else None,
        image_alt=image[1] if image else None,
    )


def _text(node: LexborNode | None) -> str:
    return "" if node is None else " ".join(node.text(separator=" ").split())


def _anchor(node: LexborNode | None) -> LexborNode | None:
    return None if node is None else node.css_first("a[href]")


def _link(node: LexborNode | None, base: str) -> str | None:
    anchor = _anchor(node)
    return None if anchor is None else absolute_http(anchor.attributes.get("href"), base)


def _date_text(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    time = node.css_first("time[datetime]")
    if time is not None and parse_german_date(time.attributes.get("datetime") or ""):
        return time.attributes.get("datetime")
    return _text(node) or None


def _image(node: LexborNode | None, base: str) -> tuple[str, str | None] | None:
    img = None if node is None else node.css_first("img")
    if img is None:
        return None
    attributes = img.attributes
    # Lazy-loading themes put the real source in data-src and a placeholder in src.
    for name in ("data-src", "src"):
        url = absolute_http(attributes.get(name), base)
        if url is not None:
            alt = " ".join((attributes.get("alt") or "").split())[:500]
            return url, alt or None
    return None


def absolute_http(url: str | None, base: str) -> str | None:
    """`url` made absolute against `base`, if it is an http(s) address one can fetch: a
    page's broken link (`http://[::1/`, a port past 65535) is no link, not a crash."""
    if not url or not url.strip():
        return None
    try:
        resolved = urljoin(base, url.strip())
        parsed = httpx.URL(resolved)
    except (ValueError, httpx.InvalidURL):
        return None
    if len(resolved) > URL_CHARS or parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return resolved


def page_title(text: str) -> str | None:
    """The page's <title>, on one line."""
    title = LexborHTMLParser(text).css_first("title")
    return _text(title) or None
