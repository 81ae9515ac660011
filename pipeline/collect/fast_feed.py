"""A fast reader for the plain RSS 2.0 and Atom 1.0 feeds most partners publish.

It builds the tree with the C parser of the standard library (expat, as feedparser's strict
mode does) and gives each entry as the mapping feedparser would have given, for the fields
`pipeline.collect.normalize` reads. feedparser stays the parser of record: for anything this
module is not sure to read exactly as feedparser does (another format or encoding, a DTD or
entities, a relative xml:base, XHTML content, an element it does not know, markup that is
not well-formed) `read_entries` returns None and the caller uses feedparser.

The proof that both read alike is tests/collect/test_fast_feed.py, over feedparser's own
test corpus. The rules below copy feedparser 6.0's (mixin.py, namespaces/_base.py) for the
shapes accepted; its helpers for dates, URL joining and HTML guessing are used as they are.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri

Entry = dict[str, Any]

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = ("http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss")
WFW = "http://wellformedweb.org/CommentAPI/"
SLASH = "http://purl.org/rss/1.0/modules/slash/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_BASE = "{" + XML_NS + "}base"
_XML_LANG = "{" + XML_NS + "}lang"
_A = "{" + ATOM + "}"

# Namespaces feedparser reads as its own vocabulary (RSS 1.0, the Atom drafts, ...): a
# declaration of one of them can change the version it assumes. Atom is allowed where said.
_CORE_NAMESPACES = {
    uri.lower() for uri, prefix in _FeedParserMixin.namespaces.items() if prefix == "" and uri
}
# Element names feedparser gives a structural meaning in any namespace that maps to its own.
_STRUCTURAL = {"rss", "channel", "feed", "item", "entry", "source", "rdf"}
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*?>")
_DECLARED_ENCODING = re.compile(rb"""\bencoding\s*=\s*["']([^"']*)["']""")
_UTF8 = {"utf-8", "utf8"}
# `<!` other than a comment or CDATA: a DOCTYPE, an entity declaration.
_DECLARATION = re.compile(rb"<!(?!--|\[CDATA\[)")
_C1_CONTROLS = re.compile("[\x80-\x9f]")

# Children of an RSS 2.0 item this module reads, with the attributes each may carry.
# Each may occur once, except where feedparser collects a list.
_RSS_ITEM_CHILDREN: dict[str, frozenset[str]] = {
    "title": frozenset(),
    "link": frozenset(),
    "description": frozenset(),
    "guid": frozenset({"isPermaLink"}),
    "pubDate": frozenset(),
    "category": frozenset({"domain"}),
    "enclosure": frozenset({"url", "type", "length"}),
    "author": frozenset(),
    "comments": frozenset(),
    "{" + CONTENT + "}encoded": frozenset(),
    "{" + DC + "}creator": frozenset(),
    "{" + DC + "}date": frozenset(),
    # WordPress's comment links and counts: feedparser keeps them under names of their own.
    "{" + WFW + "}commentRss": frozenset(),
    "{" + WFW + "}comment": frozenset(),
    "{" + SLASH + "}comments": frozenset(),
    "{com-wordpress:feed-additions:1}post-id": frozenset(),
}
_ATOM_ENTRY_CHILDREN: dict[str, frozenset[str]] = {
    _A + "id": frozenset(),
    _A + "title": frozenset({"type"}),
    _A + "link": frozenset({"href", "rel", "type", "hreflang", "title", "length"}),
    _A + "published": frozenset(),
    _A + "updated": frozenset(),
    _A + "summary": frozenset({"type"}),
    _A + "content": frozenset({"type"}),
    _A + "category": frozenset({"term", "scheme", "label"}),
    _A + "author": frozenset(),
    _A + "contributor": frozenset(),
}
_MEDIA_ATTRIBUTES = frozenset(
    {"url", "type", "medium", "width", "height", "fileSize", "duration", "lang", "isDefault"}
    | {"expression", "bitrate", "framerate", "samplingrate", "channels", "time"}
)
for _uri in MEDIA:
    _RSS_ITEM_CHILDREN["{" + _uri + "}content"] = _MEDIA_ATTRIBUTES
    _RSS_ITEM_CHILDREN["{" + _uri + "}thumbnail"] = _MEDIA_ATTRIBUTES
    _ATOM_ENTRY_CHILDREN["{" + _uri + "}content"] = _MEDIA_ATTRIBUTES
    _ATOM_ENTRY_CHILDREN["{" + _uri + "}thumbnail"] = _MEDIA_ATTRIBUTES
_MEDIA_TAGS = {"{" + uri + "}" + name for uri in MEDIA for name in ("content", "thumbnail")}
_REPEATABLE = {"category", _A + "category", _A + "link", "enclosure", _A + "author"}
_REPEATABLE |= {_A + "contributor", "{" + DC + "}creator", "author"}
_REPEATABLE |= _MEDIA_TAGS
_PERSON_CHILDREN = {_A + "name", _A + "email", _A + "uri"}
_ATOM_TEXT_TYPES = {"text": "text/plain", "html": "text/html"}


class _Declined(Exception):
    """The feed is not one of the shapes read here: feedparser reads it."""


def read_entries(body: bytes, headers: Mapping[str, str]) -> list[Entry] | None:
    """The feed's entries as feedparser would give them, or None to leave it to feedparser.

    `headers` are the response headers with lower-case names, `content-location` included.
    None also for a feed without entries: feedparser then tells an empty feed from no feed.
    """
    try:
        data = _utf8_body(body, headers)
        base = _base_uri(headers.get("content-location", ""))
        namespaces, root = _tree(data)
        if root.tag == "rss":
            entries = _rss_entries(root, namespaces, base)
        elif root.tag == _A + "feed":
            entries = _atom_entries(root, namespaces, base)
        else:
            return None
    except (_Declined, ET.ParseError, ValueError):
        return None
    return entries or None


def _utf8_body(body: bytes, headers: Mapping[str, str]) -> bytes:
    """The body when feedparser would read it as UTF-8 without a complaint, else _Declined.

    feedparser follows RFC 3023: a text/* type without a charset means US-ASCII, no
    Content-Type at all is reported, and the HTTP charset beats the XML declaration.
    """
    if body.startswith(codecs.BOM_UTF8):
        body = body[3:]
    elif body[:2] in (codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE) or body[:1] in (b"\0", b"\x4c"):
        raise _Declined
    media_type, _, parameters = (headers.get("content-type") or "").partition(";")
    media_type = media_type.strip()  # as feedparser compares it: "Text/XML" is not XML to it
    charset = _charset(parameters)
    declaration = _XML_DECLARATION.match(body)
    declared = _DECLARED_ENCODING.search(declaration[0]) if declaration else None
    encoding = declared[1].decode("ascii", "replace").lower() if declared else None
    if encoding is not None and encoding not in _UTF8 | {"us-ascii"}:
        raise _Declined
    if charset is not None and charset not in _UTF8:
        raise _Declined
    if media_type in ("application/xml", "application/xml-external-parsed-entity") or (
        media_type.startswith("application/") and media_type.endswith("+xml")
    ):
        ascii_only = encoding == "us-ascii" and charset is None
    elif media_type in ("text/xml", "text/xml-external-parsed-entity") or (
        media_type.startswith("text/") and media_type.endswith("+xml")
    ):
        ascii_only = charset is None
    else:
        raise _Declined  # feedparser reports a type that is not XML, or none
    if ascii_only and not body.isascii():
        raise _Declined
    body.decode("utf-8")  # UnicodeDecodeError is a ValueError: declined
    if _DECLARATION.search(body):
        raise _Declined
    return body


def _charset(parameters: str) -> str | None:
    """The charset parameter as feedparser reads it (the last one given), in lower case."""
    charset = None
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    return charset


def _base_uri(content_location: str) -> str:
    base: str = make_safe_absolute_uri(content_location) or ""
    if not base or make_safe_absolute_uri(base, base) != base:
        raise _Declined
    return base


def _tree(data: bytes) -> tuple[set[str], Element]:
    """The namespaces declared anywhere, and the root element."""
    namespaces: set[str] = set()
    root: Element | None = None
    # No DTD gets this far (`_utf8_body`), so no entity can expand; expat reads no
    # external entity.
    events = ET.iterparse(io.BytesIO(data), events=("start", "start-ns"))  # noqa: S314
    for event, value in events:
        if event == "start-ns":
            namespaces.add(value[1].lower())
        elif root is None:
            root = value
    if root is None:
        raise _Declined
    return namespaces, root


def _rss_entries(root: Element, namespaces: set[str], base: str) -> list[Entry]:
    if not root.get("version", "").startswith("2."):
        raise _Declined
    if namespaces & (_CORE_NAMESPACES - {ATOM.lower()}):
        raise _Declined
    _check_attributes(root, {"version"})
    channels = list(root)
    if len(channels) != 1 or channels[0].tag != "channel":
        raise _Declined
    _check_attributes(channels[0], set())
    base = _rebase(channels[0], _rebase(root, base))
    entries = []
    for child in channels[0]:
        if child.tag == "item":
            entries.append(_rss_item(child, base))
        else:
            _check_feed_level(child)
    return entries


def _atom_entries(root: Element, namespaces: set[str], base: str) -> list[Entry]:
    if namespaces & (_CORE_NAMESPACES - {ATOM.lower()}):
        raise _Declined
    _check_attributes(root, set())
    base = _rebase(root, base)
    entries = []
    for child in root:
        if child.tag == _A + "entry":
            entries.append(_atom_entry(child, base))
        else:
            _check_feed_level(child)
    return entries


def _check_attributes(element: Element, allowed: set[str] | frozenset[str]) -> None:
    """Known attributes only; xml:lang and xml:base anywhere (see `_rebase`)."""
    for name in element.attrib:
        if name not in allowed and name not in (_XML_LANG, _XML_BASE):
            raise _Declined


def _rebase(element: Element, base: str) -> str:
    """The base URI inside the element: its xml:base if absolute, else the one in force.

    A relative xml:base is feedparser's to read (it resolves it against the base in force).
    """
    value = element.get(_XML_BASE)
    if value is None:
        return base
    if urlsplit(value.strip()).scheme.lower() not in ("http", "https"):
        raise _Declined
    inside: str = make_safe_absolute_uri(base, value) or base
    if make_safe_absolute_uri(inside, inside) != inside:
        raise _Declined
    return inside


def _check_feed_level(element: Element) -> None:
    """Feed-level data is not read here, but nothing in it may start an entry.

    (An xml:base in it holds only inside its element: feedparser keeps a stack of bases.)
    """
    for node in element.iter():
        namespace, _, local = (
            node.tag[1:].rpartition("}") if node.tag[0] == "{" else ("", "", node.tag)
        )
        if local.lower() in _STRUCTURAL and (
            not namespace or namespace.lower() in _CORE_NAMESPACES
        ):
            raise _Declined


def _children(
    entry: Element, known: Mapping[str, frozenset[str]], base: str
) -> list[tuple[str, Element, str]]:
    """The entry's children (leaves with known attributes) with the base inside each."""
    _check_attributes(entry, set())
    base = _rebase(entry, base)
    seen: set[str] = set()
    titled = False
    children = []
    for child in entry:
        tag = child.tag
        allowed = known.get(tag) if isinstance(tag, str) else None
        if allowed is None:
            raise _Declined
        if tag not in _REPEATABLE:
            if tag in seen:
                raise _Declined
            seen.add(tag)
        _check_attributes(child, allowed)
        if len(child) and not (
            tag in (_A + "author", _A + "contributor") or (titled and _titled_media(tag, child))
        ):
            raise _Declined
        titled = titled or (tag in ("title", _A + "title") and bool((child.text or "").strip()))
        children.append((tag, child, _rebase(child, base)))
    return children


def _titled_media(tag: str, element: Element) -> bool:
    """media:content holding only media:title (WordPress.com's author picture).

    feedparser reads media:title as the entry's title unless one came before: the caller
    allows it only then.
    """
    if not tag.endswith("}content") or tag not in _MEDIA_TAGS:
        return False
    title = tag.removesuffix("content") + "title"
    return all(child.tag == title and not len(child) for child in element)


def _text(element: Element) -> str:
    """feedparser's value of an element's text: stripped, its mojibake repair, cp1252."""
    return _repaired((element.text or "").strip())


def _repaired(output: str) -> str:
    if output.isascii():
        return output  # both steps leave ASCII as it is
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    # str.translate is slow on long text: only where a C1 control character is to be mapped.
    return output.translate(_cp1252) if _C1_CONTROLS.search(output) else output


def _attributes(element: Element) -> dict[str, str]:
    """Attributes as feedparser keeps them: names in lower case, `rel` and `type` too."""
    attributes = {}
    for name, value in element.attrib.items():
        key = name.lower()
        attributes[key] = value.lower() if key in ("rel", "type") else value
    return attributes


def _add_tag(
    tags: list[dict[str, str | None]], term: str | None, scheme: str | None, label: str | None
) -> None:
    if not term and not scheme and not label:
        return
    value = {"term": term, "scheme": scheme, "label": label}
    if value not in tags:
        tags.append(value)


def _end_category(tags: list[dict[str, str | None]], value: str) -> None:
    if not value:
        return
    if tags and not tags[-1]["term"]:
        tags[-1]["term"] = value
    else:
        _add_tag(tags, value, None, None)


def _media(entry: Entry, tag: str, child: Element) -> None:
    if (child.text or "").strip():
        raise _Declined  # a thumbnail's URL as text: feedparser resolves it
    name = "media_content" if tag.endswith("}content") else "media_thumbnail"
    entry.setdefault(name, []).append(_attributes(child))


def _rss_item(item: Element, feed_base: str) -> Entry:
    entry: Entry = {}
    tags: list[dict[str, str | None]] = []
    enclosures: list[dict[str, str]] = []
    for tag, child, base in _children(item, _RSS_ITEM_CHILDREN, feed_base):
        if tag == "title":
            raw = (child.text or "").strip()
            kind = "text/html" if _FeedParserMixin.looks_like_html(raw) else "text/plain"
            entry["title"] = value = _repaired(raw)
            entry["title_detail"] = {"type": kind, "base": base, "value": value}
        elif tag == "description":
            value = _text(child)
            entry["summary"] = value
            entry["summary_detail"] = {"type": "text/html", "base": base, "value": value}
        elif tag == "{" + CONTENT + "}encoded":
            value = _text(child)
            entry["content"] = [{"type": "text/html", "base": base, "value": value}]
            entry.setdefault("summary", value)
        elif tag == "link":
            raw = (child.text or "").strip()
            value = _repaired(_urljoin(base, raw) if raw else raw).replace("&amp;", "&")
            entry["link"] = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value)
        elif tag == "guid":
            permalink = child.get("isPermaLink", "true") == "true"
            raw = (child.text or "").strip()
            entry["id"] = value = _repaired(_urljoin(base, raw) if raw and permalink else raw)
            if permalink:
                entry.setdefault("link", value)
        elif tag == "pubDate":
            entry["published_parsed"] = _parse_date(_text(child))
        elif tag == "{" + DC + "}date":
            entry["updated_parsed"] = _parse_date(_text(child))
        elif tag == "category":
            _add_tag(tags, None, child.get("domain"), None)
            _end_category(tags, _text(child))
        elif tag == "enclosure":
            attributes = _attributes(child)
            href = attributes.pop("url", None)
            if href:
                attributes["href"] = href
            enclosures.append(attributes)
        elif tag.endswith(("}content", "}thumbnail")):
            _media(entry, tag, child)
        # author, comments, dc:creator, wfw:*, slash:comments, post-id: not read by the normaliser
    if tags:
        entry["tags"] = tags
    if enclosures:
        entry["enclosures"] = enclosures
    return entry


def _atom_text_type(element: Element) -> str:
    kind = _ATOM_TEXT_TYPES.get(element.get("type", "text").lower())
    if kind is None:
        raise _Declined  # XHTML, base64 or another media type
    return kind


def _atom_entry(element: Element, feed_base: str) -> Entry:
    entry: Entry = {}
    tags: list[dict[str, str | None]] = []
    enclosures: list[dict[str, str]] = []
    for tag, child, base in _children(element, _ATOM_ENTRY_CHILDREN, feed_base):
        if tag == _A + "id":
            raw = (child.text or "").strip()
            entry["id"] = value = _repaired(_urljoin(base, raw) if raw else raw)
            entry.setdefault("link", value)
        elif tag in (_A + "title", _A + "summary"):
            kind = _atom_text_type(child)
            value = _text(child)
            name = tag[len(_A) :]
            entry[name] = value
            entry[name + "_detail"] = {"type": kind, "base": base, "value": value}
        elif tag == _A + "content":
            kind = _atom_text_type(child)
            value = _text(child)
            entry["content"] = [{"type": kind, "base": base, "value": value}]
            entry.setdefault("summary", value)
        elif tag == _A + "link":
            _atom_link(entry, enclosures, child, base)
        elif tag == _A + "published":
            entry["published_parsed"] = _parse_date(_text(child))
        elif tag == _A + "updated":
            entry["updated_parsed"] = _parse_date(_text(child))
        elif tag == _A + "category":
            _add_tag(tags, child.get("term"), child.get("scheme"), child.get("label"))
            _end_category(tags, _text(child))
        elif tag in (_A + "author", _A + "contributor"):
            _check_person(child)
        else:
            _media(entry, tag, child)
    if tags:
        entry["tags"] = tags
    if enclosures:
        entry["enclosures"] = enclosures
    return entry


def _atom_link(entry: Entry, enclosures: list[dict[str, str]], child: Element, base: str) -> None:
    attributes = _attributes(child)
    if "href" not in attributes or (child.text or "").strip():
        raise _Declined  # feedparser reads a link's text then
    rel = attributes.setdefault("rel", "alternate")
    attributes.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
    attributes["href"] = _urljoin(base, attributes["href"])
    if rel == "alternate" and _FeedParserMixin.map_content_type(attributes["type"]) in (
        _FeedParserMixin.html_types
    ):
        entry["link"] = attributes["href"]
    elif rel == "enclosure":
        enclosures.append({name: value for name, value in attributes.items() if name != "rel"})


def _check_person(element: Element) -> None:
    for child in element:
        if child.tag not in _PERSON_CHILDREN or len(child) or child.attrib:
            raise _Declined
