"""Signed tokens for links in mails: bound to one subscriber and one purpose."""

from __future__ import annotations

import hmac
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.signer import HMACAlgorithm

PURPOSES = ("unsubscribe", "preferences")


class InvalidToken(ValueError):
    pass


@lru_cache(maxsize=8)  # built once per key and purpose, not once per link of a send
def _serializer(secret_key: str, purpose: str) -> URLSafeSerializer:
    assert purpose in PURPOSES, purpose
    # The purpose is the salt: an unsubscribe token never opens the preferences page.
    return URLSafeSerializer(secret_key, salt=f"newsletter.{purpose}")


def make_token(secret_key: str, purpose: str, subscriber_id: int) -> str:
    return str(_serializer(secret_key, purpose).dumps(subscriber_id))


class TokenMaker:
    """Signs the tokens of one purpose for a whole send: the same tokens as `make_token`,
    with the key derived once instead of once per link (a send signs two per reader)."""

    def __init__(self, secret_key: str, purpose: str):
        signer = _serializer(secret_key, purpose).make_signer()
        self._key = signer.derive_key()
        assert isinstance(signer.algorithm, HMACAlgorithm)
        self._digest = signer.algorithm.digest_method
        self._separator: bytes = signer.sep

    def __call__(self, subscriber_id: int) -> str:
        # The serializer's payload for an int: its JSON (the digits), uncompressed (zlib
        # never shortens a few digits), base64url without padding.
        payload = base64_encode(str(subscriber_id).encode())
        # hmac.digest: the one-call C path of the HMAC itsdangerous computes.
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
