"""Signed tokens for links in mails and for forms: bound to one subscriber and one purpose.

The purpose is the salt, so a token made for one purpose never opens another page.
Confirmation links carry their time of signing and expire; being usable only while the
subscriber is pending makes them single-use. Form tokens (CSRF) are bound to the form's
path and expire too.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import HMACAlgorithm

PURPOSES = ("unsubscribe", "preferences")
TIMED_PURPOSES = ("confirm", "form")


class InvalidToken(ValueError):
    pass


class ExpiredToken(InvalidToken):
    pass


@lru_cache(maxsize=8)  # built once per key and purpose, not once per link of a send
def _serializer(secret_key: str, purpose: str) -> URLSafeSerializer:
    assert purpose in PURPOSES, purpose
    return URLSafeSerializer(secret_key, salt=f"newsletter.{purpose}")


def _timed(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    assert purpose in TIMED_PURPOSES, purpose
    return URLSafeTimedSerializer(secret_key, salt=f"newsletter.{purpose}")


def make_token(secret_key: str, purpose: str, subscriber_id: int) -> str:
    return str(_serializer(secret_key, purpose).dumps(subscriber_id))


class TokenMaker:
    """Signs the tokens of one purpose for a whole send: the same tokens as `make_token`,
    with the key derived once instead of once per link (a send signs two per reader)."""

    def __init__(self, secret_key: str, purpose: str):
        signer = _serializer(secret_key, purpose).make_signer()
        self._key = signer.derive_key()
        assert isinstance(signer.algorithm, HMACAlgorithm)
        # By name, not as a constructor: only then does hmac.digest take OpenSSL's one-call path.
        self._digest = signer.algorithm.digest_method().name
        self._separator: bytes = signer.sep

    def __call__(self, subscriber_id: int) -> str:
        # The serializer's payload for an int: its JSON (the digits), uncompressed (zlib
        # never shortens a few digits), base64url without padding.
        payload = base64_encode(str(subscriber_id).encode())
        # The HMAC itsdangerous computes, in one call.
        signature: bytes = base64_encode(hmac.digest(self._key, payload, self._digest))
        return (payload + self._separator + signature).decode("ascii")


def read_token(secret_key: str, purpose: str, token: str) -> int:
    try:
        value = _serializer(secret_key, purpose).loads(token)
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    if not isinstance(value, int):
        raise InvalidToken("the link is not valid")
    return value


def make_confirm_token(secret_key: str, subscriber_id: int) -> str:
    return str(_timed(secret_key, "confirm").dumps(subscriber_id))


def read_confirm_token(secret_key: str, token: str, max_age: timedelta) -> int:
    try:
        value = _timed(secret_key, "confirm").loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise ExpiredToken("the link has expired") from exc
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    if not isinstance(value, int):
        raise InvalidToken("the link is not valid")
    return value


def make_form_token(secret_key: str, path: str) -> str:
    return str(_timed(secret_key, "form").dumps(path))


def check_form_token(secret_key: str, token: str, path: str, max_age: timedelta) -> None:
    """Raise InvalidToken unless the token was made for this form's path within max_age."""
    try:
        value = _timed(secret_key, "form").loads(token, max_age=int(max_age.total_seconds()))
    except BadSignature as exc:
        raise InvalidToken("the form has expired or was not sent from this site") from exc
    if value != path:
        raise InvalidToken("the form was made for another page")
