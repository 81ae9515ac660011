"""Secrets from the environment, never from config.yaml."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

# Public on purpose: it marks a development setup, and `secret_key()` warns whenever it is used.
DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-set-NEWSLETTER_SECRET_KEY"  # noqa: S105


def secret_key() -> str:
    """The signing key for tokens; a marked development key (with a warning) when unset."""
    key = os.environ.get("NEWSLETTER_SECRET_KEY")
    if key:
        return key
    log.warning(
        "NEWSLETTER_SECRET_KEY is not set: using the development signing key. "
        "Links in mails sent now can be forged; set the variable before sending for real."
    )
    return DEVELOPMENT_SECRET_KEY


def provider_token() -> str | None:
    return os.environ.get("NEWSLETTER_PROVIDER_TOKEN") or None
