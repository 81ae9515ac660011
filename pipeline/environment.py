"""Secrets from the environment, never from config.yaml."""

from __future__ import annotations

import logging
import os

from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
# Public on purpose: anyone can sign with it, so only a development site may use it.
DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-set-NEWSLETTER_SECRET_KEY"  # noqa: S105
KEY_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"

SigningKeys = tuple[str, ...]
"""Keys oldest first: the last one signs, every one verifies (itsdangerous's key list)."""


def signing_keys(*, development: bool) -> SigningKeys:
    """`NEWSLETTER_SECRET_KEY`, after `NEWSLETTER_SECRET_KEY_OLD` when that is set too.

    Without a key only a development site goes on, on the public development key; any
    other refuses, since links signed with a public key can be forged by anyone.
    """
    current = os.environ.get("NEWSLETTER_SECRET_KEY", "")
    old = os.environ.get("NEWSLETTER_SECRET_KEY_OLD", "")
    if not current:
        if not development:
            raise ConfigError(
                "NEWSLETTER_SECRET_KEY is not set: links in mails and the desk's sessions "
                f"would be signed with a public key. Set it to {MIN_SECRET_KEY_LENGTH} or more "
                f"random characters ({KEY_HINT}), or pass --dev on a development machine"
            )
        log.warning(
            "development site: signing with the public development key "
            "(set NEWSLETTER_SECRET_KEY before sending for real)"
        )
        return (DEVELOPMENT_SECRET_KEY,)
    for name, key in (("NEWSLETTER_SECRET_KEY", current), ("NEWSLETTER_SECRET_KEY_OLD", old)):
        if key and len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"{name} is {len(key)} characters long; it needs at least "
                f"{MIN_SECRET_KEY_LENGTH} ({KEY_HINT})"
            )
        if key == DEVELOPMENT_SECRET_KEY:
            raise ConfigError(f"{name} is the public development key; choose a secret one")
    return (old, current) if old and old != current else (current,)


def provider_token() -> str | None:
    return os.environ.get("NEWSLETTER_PROVIDER_TOKEN") or None


BOUNCE_PASSWORD = "NEWSLETTER_BOUNCE_PASSWORD"  # noqa: S105 (the variable's name)


def bounce_password() -> str:
    """The bounce mailbox's password; a ConfigError naming the variable when unset."""
    password = os.environ.get(BOUNCE_PASSWORD, "")
    if not password:
        raise ConfigError(
            f"{BOUNCE_PASSWORD} is not set: bounces.mailbox needs the mailbox's password "
            "(it is never read from config.yaml)"
        )
    return password
