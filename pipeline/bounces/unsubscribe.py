"""The List-Unsubscribe mailto: a mail to the bounce address, subject `unsubscribe TOKEN`.

Mail apps send the subject as given (`unsubscribe aaaa…`); some add "Re:" or "AW:", change
the case or wrap it in RFC 2047. The token is checked by `classify` like any other.
"""

from __future__ import annotations

import re
from email.message import Message

from pipeline.bounces import parts
from pipeline.tokens import DELIVERY_TOKEN_LENGTH

_SUBJECT = re.compile(
    rf"^\s*(?:(?:re|aw|fwd?|wg|sv|antw)\s*:\s*)*unsubscribe\s+([a-z2-7]{{{DELIVERY_TOKEN_LENGTH}}})"
    r"\s*$",
    re.IGNORECASE,
)
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def subject_token(msg: Message) -> str | None:
    """The token of an `unsubscribe TOKEN` subject, or None."""
    match = _SUBJECT.match(parts.header_text(msg, "Subject"))
    return match.group(1).lower() if match else None


def sent_to_bounce_address(msg: Message, bounce_address: str | None) -> bool:
    """Addressed to the bounce address (or a `+tag` of it); true when none is configured."""
    if not bounce_address or "@" not in bounce_address:
        return True
    local, _, domain = bounce_address.rpartition("@")
    address = re.compile(
        rf"(?<![\w.+-]){re.escape(local)}(?:\+[^@\s]*)?@{re.escape(domain)}(?![\w-])",
        re.IGNORECASE,
    )
    return any(
        address.search(value)
        for name in _RECIPIENT_HEADERS
        for value in parts.header_texts(msg, name)
    )
