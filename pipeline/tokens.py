"""Signed tokens for links in mails: bound to one subscriber and one purpose."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

PURPOSES = ("unsubscribe", "preferences")


class InvalidToken(ValueError):
    pass


def _serializer(secret_key: str, purpose: str) -> URLSafeSerializer:
    assert purpose in PURPOSES, purpose
    # The purpose is the salt: an unsubscribe token never opens the preferences page.
    return URLSafeSerializer(secret_key, salt=f"newsletter.{purpose}")


def make_token(secret_key: str, purpose: str, subscriber_id: int) -> str:
    return str(_serializer(secret_key, purpose).dumps(subscriber_id))


def read_token(secret_key: str, purpose: str, token: str) -> int:
    try:
        value = _serializer(secret_key, purpose).loads(token)
    except BadSignature as exc:
        raise InvalidToken("the link is not valid") from exc
    if not isinstance(value, int):
        raise InvalidToken("the link is not valid")
    return value
