"""A feed's bytes into clean items: parse (the fast path, else feedparser), normalise each entry.

Pure functions of data: they run in worker processes (see `pipeline.collect.feeds`), so
their arguments and results are plain picklable values.
"""

from __future__ import annotations

import hashlib
import html
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from pipeline.collect.fast_feed import read_entries
from pipeline.collect.item import CollectedItem
from pipeline.collect.sanitize import first_image, plain_text, sanitise_html
from pipeline.config import ItemKind

SUMMARY_CHARS = 400
TITLE_CHARS = 300
URL_CHARS = 2000  # the store's limit for links and images
MAX_IDENTITY = 400  # with the feed's URL (at most ~500 in practice) below the key's 1000


@dataclass(frozen=True)
class FeedSource:
    """A configured feed, as the parser needs to know it."""

    url: str
    name: str
    kind: ItemKind
    topic_keys: tuple[str, ...] = ()
    """Every topic of config.yaml: an entry's categories that name one give it that topic."""
    topics: tuple[str, ...] = ()
    """The feed's own topics (`sources.feeds[].topics`), given to each of its items."""


@dataclass
class ParsedFeed:
    items: list[CollectedItem] = field(default_factory=list)
    warning: str | None = None
    """The feed is not well-formed, but its entries could be read."""
    error: str | None = None
    """Nothing could be read: the reason."""
    unread: tuple[str, ...] = ()
    """Key prefixes of entries that could not be read: their stored items stay as they are."""


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    final_url: str,
    source: FeedSource,
    fetched_at: datetime,
) -> ParsedFeed:
    """Parse a feed's body, with its response headers so encodings and relative URLs resolve."""
    response_headers = {name.lower(): value for name, value in headers.items()}
    response_headers.setdefault("content-location", final_url)
    entries = read_entries(body, response_headers)
    if entries is not None:
        return _items(entries, final_url, source, fetched_at)
    return parse_with_feedparser(body, response_headers, final_url, source, fetched_at)


def parse_with_feedparser(
    body: bytes,
    response_headers: Mapping[str, str],
    final_url: str,
    source: FeedSource,
    fetched_at: datetime,
) -> ParsedFeed:
    """feedparser's reading, the parser of record: any feed, broken ones as best it can.

    `response_headers` have lower-case names and a `content-location`.
    """
    # Relative URLs are resolved by `sanitise_html` against each entry's base: letting
    # feedparser do it as well costs a third of its parse time.
    parsed = feedparser.parse(
        body, response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
    )
    problem = _describe(parsed.get("bozo_exception")) if parsed.bozo else None
    if not parsed.entries:
        if not parsed.version:
            return ParsedFeed(error=f"not an RSS or Atom feed ({problem or 'no feed found'})")
        if problem is not None and "encoding" not in problem:
            return ParsedFeed(error=f"the feed is broken and has no readable entries: {problem}")
        return ParsedFeed()
    result = _items(parsed.entries, final_url, source, fetched_at)
    if problem is not None:
        result.warning = f"not well-formed ({problem}); read {len(result.items)} entries anyway"
    return result


def _items(
    entries: Sequence[Mapping[str, Any]], final_url: str, source: FeedSource, fetched_at: datetime
) -> ParsedFeed:
    result = ParsedFeed()
    for entry in entries:
        item = entry_to_item(entry, final_url, source, fetched_at)
        if item is not None:
            result.items.append(item)
    return result


def _describe(exc: object) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def entry_to_item(
    entry: Mapping[str, Any], base_url: str, source: FeedSource, fetched_at: datetime
) -> CollectedItem | None:
    """One entry as an item; None for an entry with neither title nor link."""
    link = absolute_http(entry.get("link"), base_url)
    body_html = sanitise_html(_summary_html(entry), base_url=_base(entry, base_url))
    title = _title(entry) or plain_text(body_html)[:80]
    if not title and link is None:
        return None
    published = _date(entry)
    image = _image(entry, base_url, body_html)
    categories = tuple(
        term.strip() for tag in entry.get("tags") or () if (term := tag.get("term") or "").strip()
    )
    lowered = {category.casefold() for category in categories}
    return CollectedItem(
        key=f"feed:{source.url}#{_identity(entry, link, title)}",
        source=source.name,
        kind=source.kind,
        title=title[:TITLE_CHARS] or link or "",
        summary=shorten(plain_text(body_html), SUMMARY_CHARS),
        body_html=body_html,
        link=link,
        image=image[0] if image else None,
        image_alt=image[1] if image else None,
        topics=_topics(source, lowered),
        published_at=published or fetched_at,
        event=None,
        ready=True,
        categories=categories,
        undated=published is None,
    )


def _topics(source: FeedSource, categories: set[str]) -> tuple[str, ...]:
    """The feed's topics, then those its entry's categories name, each once."""
    named = (key for key in source.topic_keys if key.casefold() in categories)
    return tuple(dict.fromkeys((*source.topics, *named)))


def _identity(entry: Mapping[str, Any], link: str | None, title: str) -> str:
    """rss2email's rule: the entry's id, else its link, else a hash of its title.

    An identity too long for the store is kept as its hash.
    """
    identity = (entry.get("id") or "").strip() or link
    if identity is None:
        return "sha256:" + hashlib.sha256(title.encode()).hexdigest()[:32]
    if len(identity) > MAX_IDENTITY:
        return "sha256:" + hashlib.sha256(identity.encode()).hexdigest()
    return identity


def _title(entry: Mapping[str, Any]) -> str:
    """The title as plain text: markup in feed titles is nearly always escaped HTML."""
    raw = entry.get("title") or ""
    detail = entry.get("title_detail") or {}
    if "<" in raw or detail.get("type") in ("text/html", "application/xhtml+xml"):
        return plain_text(raw)
    return " ".join(raw.split())


def _summary_html(entry: Mapping[str, Any]) -> str:
    detail = entry.get("summary_detail")
    if not detail or not detail.get("value"):
        contents = entry.get("content") or []
        detail = contents[0] if contents else {}
    value: str = detail.get("value") or ""
    if detail.get("type") == "text/plain":
        return "<p>" + html.escape(value) + "</p>"
    return value


def _base(entry: Mapping[str, Any], base_url: str) -> str:
    detail = entry.get("summary_detail") or {}
    return str(detail.get("base") or base_url)


def _date(entry: Mapping[str, Any]) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed: time.struct_time | None = entry.get(name)
        if parsed is not None:
            return datetime(*parsed[:6], tzinfo=UTC)
    return None


def absolute_http(url: object, base_url: str) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    resolved = urljoin(base_url, url.strip())
    if len(resolved) > URL_CHARS or urlsplit(resolved).scheme not in ("http", "https"):
        return None
    return resolved


def _image(
    entry: Mapping[str, Any], base_url: str, body_html: str
) -> tuple[str, str | None] | None:
    """media:content, media:thumbnail, an image enclosure, else the body's first image."""
    in_body = first_image(body_html)
    candidates = [
        media.get("url")
        for media in entry.get("media_content") or ()
        if media.get("medium") == "image" or (media.get("type") or "").startswith("image/")
    ]
    candidates += [media.get("url") for media in entry.get("media_thumbnail") or ()]
    candidates += [
        enclosure.get("href")
        for enclosure in entry.get("enclosures") or ()
        if (enclosure.get("type") or "").startswith("image/")
    ]
    for candidate in candidates:
        url = absolute_http(candidate, base_url)
        if url is not None:
            alt = in_body[1][:500] if in_body and in_body[0] == url and in_body[1] else None
            return url, alt
    return in_body


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + " …"
