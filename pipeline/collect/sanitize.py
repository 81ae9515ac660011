"""HTML from feeds and Markdown bodies, made safe for email with nh3 (Ammonia).

Links and image sources are made absolute (an email has no base URL) and tracking pixels
are dropped: a reader's mail client should load nothing that only counts them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
    # WCAG 3.1.2: a passage in another language says so, for screen readers' pronunciation.
    "*": {"lang"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "form", "noscript"}
URL_ATTRIBUTES = {("a", "href"), ("img", "src")}
# Hosts whose images only count readers (feed analytics and blog statistics).
TRACKER_HOSTS = (
    "feeds.feedburner.com", "feedproxy.google.com", "pixel.wp.com", "stats.wordpress.com",
    "www.google-analytics.com", "google-analytics.com", "pixel.quantserve.com",
    "feeds.wordpress.com", "sb.scorecardresearch.com", "counter.theconversation.com",
    "vg04.met.vgwort.de", "ssl-vg03.met.vgwort.de",
)  # fmt: skip
# A BCP 47 language tag (RFC 5646's grammar, without the grandfathered irregular tags).
LANGUAGE_TAG = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"  # language, extended language
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
    r"|x(?:-[a-z0-9]{1,8})+",
    re.IGNORECASE | re.ASCII,
)
_IMG = re.compile(r"<img\b[^>]*>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def sanitise_html(markup: str, base_url: str | None = None) -> str:
    """Keep text structure, links and images; drop scripts, styles, forms, handlers, data: URLs.

    `lang` is kept on any element when it is a language tag.
    With `base_url`, relative links and image sources are resolved against it.
    """

    def allowed_value(element: str, attribute: str, value: str) -> str | None:
        if attribute == "lang":
            return value.strip() if LANGUAGE_TAG.fullmatch(value.strip()) else None
        if (element, attribute) not in URL_ATTRIBUTES:
            return value
        resolved = urljoin(base_url, value.strip()) if base_url else value.strip()
        scheme = urlsplit(resolved).scheme.lower()
        return resolved if scheme in ALLOWED_SCHEMES else None

    cleaned = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        clean_content_tags=CLEAN_CONTENT_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        attribute_filter=allowed_value,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return _IMG.sub(_without_tracking_pixel, cleaned)


def _without_tracking_pixel(match: re.Match[str]) -> str:
    attributes = {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(match[0])}
    src = attributes.get("src")
    if not src:
        return ""
    tiny = {attributes.get("width", "").strip(), attributes.get("height", "").strip()} & {
        "0",
        "1",
        "1px",
        "0px",
    }
    host = (urlsplit(src).hostname or "").lower()
    return "" if tiny or host.endswith(TRACKER_HOSTS) else match[0]


def plain_text(markup: str) -> str:
    """The text of an HTML fragment, on one line, entities decoded."""
    text = nh3.clean(markup, tags=set(), clean_content_tags=CLEAN_CONTENT_TAGS)
    return " ".join(html.unescape(text).split())


def first_image(markup: str) -> tuple[str, str | None] | None:
    """The first image (source and alt) of sanitised HTML, if any."""
    match = _IMG.search(markup)
    if match is None:
        return None
    attributes = {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(match[0])}
    return attributes["src"], attributes.get("alt") or None
