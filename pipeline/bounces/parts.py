"""Bounded, never-raising access to a parsed bounce: header text, the notification's words,
the returned original's headers.

A bounce mailbox receives whatever anyone sends: 8-bit headers, lying charsets, broken
MIME, a returned original of 30 MB. Everything here decodes with replacement, reads at
most `PART_TEXT_LIMIT` characters of a part and at most `MAX_PARTS` parts, so classifying
one message costs the same whatever it holds.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser

PART_TEXT_LIMIT = 64 * 1024
"""Characters of one part that the detectors read (a notification is a few hundred)."""
MAX_PARTS = 50
"""Parts of one message that are looked at: a report has three, a reply a handful."""

RETURNED_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"})
"""Where a bounce carries the returned original (or only its headers)."""

# Parts whose children are header blocks or a whole other message, not parts of this one.
_LEAF_TYPES = RETURNED_TYPES | {"message/delivery-status", "message/feedback-report"}

# Where a plain-text bounce starts quoting the original: Postfix, Exim, qmail, T-Online,
# Exchange and Sendmail say it in these words. The notification is what comes before.
_RETURNED_MARKERS = re.compile(
    r"^.*(?:"
    r"below this line is a copy of the message"
    r"|this is a copy of the message"
    r"|header of the original message"
    r"|original message follows"
    r"|message header follows"
    r"|message text follows"
    r"|original message headers"
    r"|returned message follows"
    r"|undelivered message headers"
    r"|urspr(?:ü|ue)ngliche nachricht"
    r"|kopfzeilen der (?:urspr(?:ü|ue)nglichen )?nachricht"
    r").*$",
    re.IGNORECASE | re.MULTILINE,
)


def header_text(msg: Message, name: str) -> str:
    """The first `name` header, RFC 2047 decoded, as one line; "" when absent or unreadable."""
    values = header_texts(msg, name)
    return values[0] if values else ""


def header_texts(msg: Message, name: str) -> list[str]:
    """Every `name` header, decoded as `header_text` does."""
    return [_decode_header_value(value) for value in msg.get_all(name) or []]


def _decode_header_value(value: object) -> str:
    text = str(value)
    # An unknown charset or a broken encoded-word: keep the raw text.
    with contextlib.suppress(LookupError, UnicodeError, HeaderParseError, ValueError):
        text = str(make_header(decode_header(text)))
    return _clean(" ".join(text.split()))


def _clean(text: str) -> str:
    """Text without lone surrogates (the parser's stand-ins for undecodable 8-bit bytes)."""
    return text.encode("utf-8", "replace").decode("utf-8", "replace")


def content_type(part: Message) -> str:
    return part.get_content_type()


def part_text(part: Message, limit: int = PART_TEXT_LIMIT) -> str:
    """A leaf part's text, transfer-decoded, charset-decoded with replacement, cut at `limit`."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, str):
        return _clean(payload[:limit])
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    data = payload[: limit * 4]
    try:
        text = data.decode(charset, "replace")
    except LookupError:  # a charset Python does not know
        text = data.decode("utf-8", "replace")
    if "\ufffd" in text and charset.lower() in {"utf-8", "us-ascii", "ascii"}:
        # 8-bit text declared as ASCII or UTF-8 is, in German mail, nearly always Latin-1.
        text = data.decode("latin-1")
    return _clean(text[:limit])


def walk(msg: Message) -> Iterator[Message]:
    """The message's parts depth first, at most `MAX_PARTS`; not into returned originals
    nor into the header blocks of a report."""
    stack = [msg]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if content_type(part) in _LEAF_TYPES:
            continue
        children = part.get_payload() if part.is_multipart() else []
        if isinstance(children, list):
            stack.extend(reversed([c for c in children if isinstance(c, Message)]))


def notification_text(msg: Message) -> str:
    """What the reporting server wrote: its text parts, up to where it quotes the original."""
    chunks: list[str] = []
    for part in walk(msg):
        if part.is_multipart() or content_type(part) in RETURNED_TYPES:
            continue
        ctype = content_type(part)
        if ctype not in {"text/plain", "text/html"} and not (
            part is msg and ctype.startswith("text/")
        ):
            continue
        text = part_text(part)
        if ctype == "text/html":
            text = _strip_tags(text)
        marker = _RETURNED_MARKERS.search(text)
        chunks.append(text[: marker.start()] if marker else text)
    return "\n".join(chunks)[:PART_TEXT_LIMIT]


def _strip_tags(html: str) -> str:
    return re.sub(r"<[^>]*>", " ", html)


def returned_header_blocks(msg: Message) -> Iterator[Message]:
    """The headers of each returned original the bounce carries as a MIME part."""
    for part in walk(msg):
        ctype = content_type(part)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                yield inner[0]
            elif isinstance(inner, str):
                yield parse_headers(inner[:PART_TEXT_LIMIT])
        elif ctype in {"text/rfc822-headers", "message/rfc822-headers"}:
            yield parse_headers(part_text(part))


def parse_headers(text: str) -> Message:
    """Header lines as a Message; whatever follows the first blank line is ignored."""
    return HeaderParser().parsestr(text, headersonly=True)


def quoted_text(msg: Message) -> str:
    """Every text part in full (bounded): where a plain bounce quotes the original's headers."""
    chunks = [
        part_text(part)
        for part in walk(msg)
        if not part.is_multipart() and content_type(part).startswith("text/")
    ]
    return "\n".join(chunks)[: PART_TEXT_LIMIT * 2]


def feedback_report_fields(msg: Message) -> Message | None:
    """The fields of the first message/feedback-report part (RFC 5965), or None."""
    for part in walk(msg):
        if content_type(part) != "message/feedback-report":
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        return parse_headers(part_text(part))
    return None
