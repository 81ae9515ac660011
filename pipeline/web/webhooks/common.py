"""What every bounce webhook shares: the event, the refusals, basic auth, replay window."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

REPLAY_WINDOW = timedelta(minutes=5)
BounceKind = Literal["hard", "soft", "complaint"]


class Unauthorized(Exception):
    """The request is not proven to come from the provider: 401, nothing changes."""


class BadPayload(Exception):
    """Authentic, but not in the provider's documented format: 400."""


@dataclass(frozen=True)
class BounceEvent:
    email: str
    kind: BounceKind
    detail: str
    event_id: str | None = None
    """The service's id of this event, so a repeated delivery is applied once; None where
    the payload carries none."""


@dataclass(frozen=True)
class WebhookRequest:
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class WebhookSettings:
    secret: str | None
    now: datetime
    sns_certificate_url: re.Pattern[str] | None = None
    fetch: Callable[[str], bytes] | None = None
    """GETs a URL (SNS certificates, subscription confirmation); injected for the tests."""


def require_secret(settings: WebhookSettings) -> str:
    if not settings.secret:
        raise Unauthorized("no secret is configured for this provider's webhook")
    return settings.secret


def check_basic_auth(request: WebhookRequest, settings: WebhookSettings) -> None:
    """The `user:password` configured as the secret must be the request's basic auth."""
    expected = require_secret(settings).encode()
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("no basic auth credentials")
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("malformed basic auth credentials") from exc
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("wrong basic auth credentials")


def check_fresh(signed_at: datetime, settings: WebhookSettings) -> None:
    if abs(settings.now - signed_at) > REPLAY_WINDOW:
        raise Unauthorized("the signed timestamp is more than 5 minutes off: refused as a replay")


def event_id_of(value: object) -> str | None:
    """A payload's event id as stored (at most 200 characters), or None when it has none."""
    if value is None or value == "":
        return None
    return str(value)[:200]


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadPayload(f"the body is not JSON: {exc}") from exc
