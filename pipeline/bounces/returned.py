"""Whose delivery a message names: only signed delivery tokens, found where we put them.

Where they are looked for:
- the envelope address the message came to, `bounces+TOKEN@domain` (`Delivered-To`,
  `X-Original-To`, `Envelope-To`, `To` of the bounce: the VERP address);
- the returned original's `X-Newsletter-Delivery: TOKEN`, its Message-ID
  `<issueN.dID.TOKEN@...>` and its `Return-Path` (the VERP address), in a message/rfc822 or
  text/rfc822-headers part, or quoted as text in the body by servers that paste it there;
- `Original-Mail-From` of a feedback report (the VERP address again);
- `In-Reply-To` and `References` of the message itself (auto-replies, readers' replies).

A token counts only when its signature verifies, and a Message-ID's `d{id}` must agree
with its token. Anything else (an address in a body, a Final-Recipient) names nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from pipeline.bounces import parts
from pipeline.tokens import DELIVERY_TOKEN_LENGTH, InvalidToken, SecretKeys, read_delivery_token

_TOKEN = rf"[a-z2-7]{{{DELIVERY_TOKEN_LENGTH}}}"
_MESSAGE_ID = re.compile(rf"<issue\d+\.d(\d+)\.({_TOKEN})@[^\s<>]+>", re.IGNORECASE)
_DELIVERY_HEADER_LINE = re.compile(
    rf"^[ \t>]*X-Newsletter-Delivery:[ \t]*({_TOKEN})\b", re.IGNORECASE | re.MULTILINE
)
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")


@dataclass
class Identity:
    """The deliveries that verified tokens name, and why others were not believed."""

    delivery_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _checked: dict[str, int | None] = field(default_factory=dict)

    def offer(
        self, secret_key: SecretKeys, token: str, where: str, claimed_id: int | None = None
    ) -> None:
        """Count `token` (found in `where`) if its signature verifies."""
        token = token.lower()
        if token not in self._checked:
            try:
                self._checked[token] = read_delivery_token(secret_key, token)
            except InvalidToken as exc:
                self._checked[token] = None
                self.note(f"token {token[:6]}… in {where} ignored: {exc}")
        delivery_id = self._checked[token]
        if delivery_id is None:
            return
        if claimed_id is not None and claimed_id != delivery_id:
            self.note(f"the Message-ID in {where} says d{claimed_id}, its token not: ignored")
            return
        if delivery_id not in self.delivery_ids:
            self.delivery_ids.append(delivery_id)

    def note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def verp_pattern(bounce_address: str | None) -> re.Pattern[str]:
    """`local+TOKEN@domain` of the bounce address; any `+TOKEN@` when none is configured."""
    if bounce_address and "@" in bounce_address:
        local, _, domain = bounce_address.rpartition("@")
        return re.compile(
            rf"(?<![\w.+-]){re.escape(local)}\+({_TOKEN})@{re.escape(domain)}(?![\w-])",
            re.IGNORECASE,
        )
    return re.compile(rf"\+({_TOKEN})@", re.IGNORECASE)


def find_identity(msg: Message, secret_key: SecretKeys, bounce_address: str | None) -> Identity:
    identity = Identity()
    verp = verp_pattern(bounce_address)
    for name in _ENVELOPE_HEADERS:
        for value in parts.header_texts(msg, name):
            for match in verp.finditer(value):
                identity.offer(secret_key, match.group(1), f"{name} (the VERP address)")
    for name in ("In-Reply-To", "References"):
        for value in parts.header_texts(msg, name):
            for match in _MESSAGE_ID.finditer(value):
                identity.offer(secret_key, match.group(2), name, int(match.group(1)))
    for headers in parts.returned_header_blocks(msg):
        _returned_headers(identity, headers, secret_key, verp)
    feedback = parts.feedback_report_fields(msg)
    if feedback is not None:
        for value in parts.header_texts(feedback, "Original-Mail-From"):
            for match in verp.finditer(value):
                identity.offer(secret_key, match.group(1), "Original-Mail-From of the report")
    _quoted(identity, parts.quoted_text(msg), secret_key, verp)
    return identity


def _returned_headers(
    identity: Identity, headers: Message, secret_key: SecretKeys, verp: re.Pattern[str]
) -> None:
    where = "the returned original"
    for value in parts.header_texts(headers, "X-Newsletter-Delivery"):
        token = value.strip()
        if re.fullmatch(_TOKEN, token, re.IGNORECASE):
            identity.offer(secret_key, token, f"X-Newsletter-Delivery of {where}")
        elif token:
            identity.note(f"X-Newsletter-Delivery of {where} is not a token")
    for value in parts.header_texts(headers, "Message-ID"):
        for match in _MESSAGE_ID.finditer(value):
            identity.offer(
                secret_key, match.group(2), f"Message-ID of {where}", int(match.group(1))
            )
    for value in parts.header_texts(headers, "Return-Path"):
        for match in verp.finditer(value):
            identity.offer(secret_key, match.group(1), f"Return-Path of {where}")


def _quoted(identity: Identity, text: str, secret_key: SecretKeys, verp: re.Pattern[str]) -> None:
    where = "headers quoted in the body"
    for match in _DELIVERY_HEADER_LINE.finditer(text):
        identity.offer(secret_key, match.group(1), where)
    for match in _MESSAGE_ID.finditer(text):
        identity.offer(secret_key, match.group(2), where, int(match.group(1)))
    for match in verp.finditer(text):
        identity.offer(secret_key, match.group(1), where)
