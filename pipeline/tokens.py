"""Signed tokens for links in mails and for forms: bound to one subscriber and one purpose.

The purpose is the salt, so a token made for one purpose never opens another page.
Confirmation links carry their time of signing and expire, and the nonce of the one
sign-up they were made for: it is deleted when used or replaced, which makes them
single-use. Form tokens (CSRF) are bound to the form's
path and expire too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm

PURPOSES = ("unsubscribe", "preferences", "partner")
TIMED_PURPOSES = ("confirm", "form", "event-preview")
EVENT_PREVIEW_MAX_AGE = timedelta(days=30)
"""How long a preview's or test mail's calendar link opens its unpublished event."""


SecretKeys = str | tuple[str, ...]
"""One key, or keys oldest first: the last one signs, every one verifies (for rotation)."""


class InvalidToken(ValueError):
    pass


class ExpiredToken(InvalidToken):
    pass


@lru_cache(maxsize=8)  # built once per key and purpose, not once per link of a send
def _serializer(secret_key: SecretKeys, purpose: str) -> URLSafeSerializer:
    assert purpose in PURPOSES, purpose
    return URLSafeSerializer(secret_key, salt=f"newsletter.{purpose}")


def _timed(secret_key: SecretKeys, purpose: str) -> URLSafeTimedSerializer:
    assert purpose in TIMED_PURPOSES, purpose
    return URLSafeTimedSerializer(secret_key, salt=f"newsletter.{purpose}")


def make_token(secret_key: SecretKeys, purpose: str, subscriber_id: int) -> str:
    return str(_serializer(secret_key, purpose).dumps(subscriber_id))


class TokenMaker:
    """Signs the tokens of one purpose for a whole send: the same tokens as `make_token`,
    with the key derived once instead of once per link (a send signs two per reader)."""

    def __init__(self, secret_key: SecretKeys, purpose: str, *, issue: int | None = None):
        """`issue` (an issue's number) goes into every token, after the subscriber's id:
        `read_link` gives it back, so an unsubscribe is counted for the issue it came from."""
        self._suffix = b"" if issue is None else b",%d]" % issue
        self._prefix = b"" if issue is None else b"["
        signer = _serializer(secret_key, purpose).make_signer()
        assert isinstance(signer.algorithm, HMACAlgorithm)
        # HMAC (RFC 2104) from its two keyed hash states, copied per link: the hashlib
        # objects work in C and hold the interpreter lock for inputs this small, where
        # `hmac.HMAC.copy` cost 8 µs of Python a link and OpenSSL's one-call `hmac.digest`
        # let go of the lock, which the ledger thread then held (bench/send_command.py).
        digest = signer.algorithm.digest_method
        key = signer.derive_key()
        block = digest().block_size
        if len(key) > block:
            key = digest(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = digest(key.translate(_IPAD))
        self._outer = digest(key.translate(_OPAD))
        self._separator: bytes = signer.sep

    def __call__(self, subscriber_id: int) -> str:
        # The serializer's payload for an int: its JSON (the digits), uncompressed (zlib
        # never shortens a few digits), base64url without padding.
        payload = _base64url(self._prefix + str(subscriber_id).encode() + self._suffix)
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return (payload + self._separator + _base64url(outer.digest())).decode("ascii")


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _base64url(data: bytes) -> bytes:
    """itsdangerous's base64_encode, without its per-call type checks."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


@dataclass(frozen=True)
class ReaderLink:
    subscriber_id: int
    issue: int | None
    """The number of the issue whose mail carried the link; None for links made before
    links named their issue, and for those from confirmation and preference pages."""


def read_link(secret_key: SecretKeys, purpose: str, token: str) -> ReaderLink:
    try:
        value = _serializer(secret_key, purpose).loads(token)
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    match value:
        case int(subscriber_id) if not isinstance(subscriber_id, bool):
            return ReaderLink(subscriber_id, None)
        case [int(subscriber_id), int(issue)] if not isinstance(subscriber_id, bool):
            return ReaderLink(subscriber_id, issue)
    raise InvalidToken("the link is not valid")


def read_token(secret_key: SecretKeys, purpose: str, token: str) -> int:
    return read_link(secret_key, purpose, token).subscriber_id


@dataclass(frozen=True)
class ConfirmLink:
    subscriber_id: int
    nonce: str


def make_confirm_token(secret_key: SecretKeys, subscriber_id: int, nonce: str) -> str:
    return str(_timed(secret_key, "confirm").dumps([subscriber_id, nonce]))


def read_confirm_token(secret_key: SecretKeys, token: str, max_age: timedelta) -> ConfirmLink:
    try:
        value = _timed(secret_key, "confirm").loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise ExpiredToken("the link has expired") from exc
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    # Links made before sign-ups carried a nonce hold a bare id: they confirm nothing.
    match value:
        case [int(subscriber_id), str(nonce)]:
            return ConfirmLink(subscriber_id, nonce)
    raise InvalidToken("the link is not valid")


def make_partner_token(secret_key: SecretKeys, partner_id: int, nonce: str) -> str:
    """A partner's personal submission link: it names the partner and the nonce of the
    partner's row, so revoking (or re-adding) the partner stops it at once."""
    return str(_serializer(secret_key, "partner").dumps([partner_id, nonce]))


def read_partner_token(secret_key: SecretKeys, token: str) -> tuple[int, str]:
    """The partner's id and nonce a submission link was signed with, or InvalidToken."""
    try:
        value = _serializer(secret_key, "partner").loads(token)
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    match value:
        case [int(partner_id), str(nonce)] if not isinstance(partner_id, bool):
            return partner_id, nonce
    raise InvalidToken("the link is not valid")


def make_form_token(secret_key: SecretKeys, path: str) -> str:
    return str(_timed(secret_key, "form").dumps(path))


def check_form_token(secret_key: SecretKeys, token: str, path: str, max_age: timedelta) -> None:
    """Raise InvalidToken unless the token was made for this form's path within max_age."""
    try:
        value = _timed(secret_key, "form").loads(token, max_age=int(max_age.total_seconds()))
    except BadSignature as exc:
        raise InvalidToken("the form has expired or was not sent from this site") from exc
    if value != path:
        raise InvalidToken("the form was made for another page")


def make_event_preview_token(secret_key: SecretKeys, item_id: int) -> str:
    """The signature that opens an event's .ics before its issue has gone out, for
    `EVENT_PREVIEW_MAX_AGE`: for the calendar links of previews and test mails, never of
    an issue's mails (those open once the issue is out, for good)."""
    return str(_timed(secret_key, "event-preview").dumps(item_id))


def read_event_preview_token(secret_key: SecretKeys, token: str) -> int:
    try:
        value = _timed(secret_key, "event-preview").loads(
            token, max_age=int(EVENT_PREVIEW_MAX_AGE.total_seconds())
        )
    except SignatureExpired as exc:
        raise ExpiredToken("the preview link has expired") from exc
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    if not isinstance(value, int):
        raise InvalidToken("the link is not valid")
    return value


DELIVERY_TOKEN_LENGTH = 23
"""Characters of a delivery token: base32 of a 4-byte delivery id and an 80-bit MAC."""
_DELIVERY_MAC_BYTES = 10
_DELIVERY_ID_BYTES = 4


def _delivery_mac(key: str, delivery_id: bytes) -> bytes:
    derived = hmac.new(key.encode(), b"newsletter.delivery", hashlib.sha256).digest()
    return hmac.new(derived, delivery_id, hashlib.sha256).digest()[:_DELIVERY_MAC_BYTES]


def _keys(secret_key: SecretKeys) -> tuple[str, ...]:
    return (secret_key,) if isinstance(secret_key, str) else secret_key


def make_delivery_token(secret_key: SecretKeys, delivery_id: int) -> str:
    """The signed name of one delivery, for the VERP envelope sender, the
    `X-Newsletter-Delivery` header and the Message-ID: lower-case base32, so a mail system
    that lower-cases (or upper-cases) a local part keeps it readable."""
    payload = delivery_id.to_bytes(_DELIVERY_ID_BYTES, "big")
    mac = _delivery_mac(_keys(secret_key)[-1], payload)
    return base64.b32encode(payload + mac).decode("ascii").rstrip("=").lower()


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_BASE32_PAIRS = tuple(_BASE32[pair >> 5] + _BASE32[pair & 31] for pair in range(1024))
_PAIR_SHIFTS = tuple(range(110, -1, -10))
"""The 112 bits of a token, padded to 120, as twelve 10-bit pairs of base32 characters."""


class DeliveryTokenMaker:
    """Signs the delivery tokens of a whole send: the same tokens as `make_delivery_token`,
    with the key derived and keyed once, not twice per reader, and base32 by table lookup
    (`base64.b32encode` is Python code, 2 µs a token; bench/send.py prints the figures)."""

    def __init__(self, secret_key: SecretKeys):
        key = _keys(secret_key)[-1].encode()
        derived = hmac.new(key, b"newsletter.delivery", hashlib.sha256).digest()
        # Keyed once, copied per reader: see TokenMaker for why not `hmac.digest`.
        self._keyed = hmac.new(derived, digestmod=hashlib.sha256)

    def __call__(self, delivery_id: int) -> str:
        payload = delivery_id.to_bytes(_DELIVERY_ID_BYTES, "big")
        mac = self._keyed.copy()
        mac.update(payload)
        bits = int.from_bytes(payload + mac.digest()[:_DELIVERY_MAC_BYTES], "big") << 8
        pairs = _BASE32_PAIRS
        return "".join([pairs[(bits >> shift) & 1023] for shift in _PAIR_SHIFTS])[:-1]


def read_delivery_token(secret_key: SecretKeys, token: str) -> int:
    """The delivery id a token names; InvalidToken when it is not one of ours."""
    if len(token) != DELIVERY_TOKEN_LENGTH:
        raise InvalidToken("not a delivery token")
    try:
        raw = base64.b32decode(token + "=", casefold=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("not a delivery token") from exc
    payload, mac = raw[:_DELIVERY_ID_BYTES], raw[_DELIVERY_ID_BYTES:]
    if not any(hmac.compare_digest(_delivery_mac(key, payload), mac) for key in _keys(secret_key)):
        raise InvalidToken("the delivery token's signature does not match")
    return int.from_bytes(payload, "big")


CLICK_MAC_BYTES = 8
_CLICK_NONCE_BYTES = 6
_CLICK_NONCES_DRAWN = 4096
_CLICK_ANONYMOUS = struct.Struct(">IHI6s")
"""issue id, variant number, minute of the batch (Unix minutes), the message's nonce."""
_CLICK_PERSONAL = struct.Struct(">IHI6sI")
"""The same, and the id of a reader who agreed to personalised statistics."""


@dataclass(frozen=True)
class ClickToken:
    """What one mail's tracked links carry (`/r/<token>.<position>`, `/o/<token>.gif`).

    The nonce is random per message and stored nowhere: it tells one mail's clicks apart
    (a scanner's sweep) without naming whose mail it was. `subscriber_id` is set only for
    a reader who agreed to personalised statistics.
    """

    issue_id: int
    variant_no: int
    minute: int
    nonce: bytes
    subscriber_id: int | None = None


@lru_cache(maxsize=8)  # derived once per key, not twice per click the redirect reads
def _click_key(key: str) -> bytes:
    return hmac.new(key.encode(), b"newsletter.click", hashlib.sha256).digest()


class ClickTokenMaker:
    """Signs one token per message for a whole send; each of its links appends only its
    position, so a mail costs one MAC however many links it has. The position needs no
    signature of its own: the redirect looks it up among the links of the issue and
    variant the signed part names, which are all in the very mail that carried it."""

    def __init__(self, secret_key: SecretKeys):
        # HMAC-SHA256 from its two keyed hash states, as TokenMaker does: `hmac.HMAC.copy`
        # cost twice as much a message (bench/send_command.py signs one per reader).
        key = _click_key(_keys(secret_key)[-1]).ljust(hashlib.sha256().block_size, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))
        self._nonces = b""
        self._next_nonce = 0

    def _nonce(self) -> bytes:
        # Drawn for thousands of messages at once: `os.urandom` lets go of the interpreter
        # lock, and one call a message waited for the ledger's thread to give it back
        # (10 µs a message in bench/send_command.py, against 0.5 µs alone).
        if self._next_nonce == len(self._nonces):
            self._nonces = os.urandom(_CLICK_NONCE_BYTES * _CLICK_NONCES_DRAWN)
            self._next_nonce = 0
        start = self._next_nonce
        self._next_nonce = start + _CLICK_NONCE_BYTES
        return self._nonces[start : self._next_nonce]

    def __call__(
        self, issue_id: int, variant_no: int, minute: int, subscriber_id: int | None = None
    ) -> str:
        nonce = self._nonce()
        if subscriber_id is None:
            payload = _CLICK_ANONYMOUS.pack(issue_id, variant_no, minute, nonce)
        else:
            payload = _CLICK_PERSONAL.pack(issue_id, variant_no, minute, nonce, subscriber_id)
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return _base64url(payload + outer.digest()[:CLICK_MAC_BYTES]).decode("ascii")


def read_click_token(secret_key: SecretKeys, token: str) -> ClickToken:
    """What a click token names; InvalidToken when it is not one of ours."""
    if len(token) > 48:
        raise InvalidToken("not a click token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("not a click token") from exc
    payload, mac = raw[:-CLICK_MAC_BYTES], raw[-CLICK_MAC_BYTES:]
    if len(payload) not in (_CLICK_ANONYMOUS.size, _CLICK_PERSONAL.size):
        raise InvalidToken("not a click token")
    if _base64url(raw).decode("ascii") != token:  # one spelling only: no padding games
        raise InvalidToken("not a click token")
    if not any(
        hmac.compare_digest(
            hmac.new(_click_key(key), payload, hashlib.sha256).digest()[:CLICK_MAC_BYTES], mac
        )
        for key in _keys(secret_key)
    ):
        raise InvalidToken("the click token's signature does not match")
    if len(payload) == _CLICK_ANONYMOUS.size:
        issue_id, variant_no, minute, nonce = _CLICK_ANONYMOUS.unpack(payload)
        return ClickToken(issue_id, variant_no, minute, nonce)
    issue_id, variant_no, minute, nonce, subscriber_id = _CLICK_PERSONAL.unpack(payload)
    return ClickToken(issue_id, variant_no, minute, nonce, subscriber_id)
