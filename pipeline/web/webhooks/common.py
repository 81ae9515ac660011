"""What every bounce webhook shares: the event, the refusals, basic auth, replay window.

Every value read from a request is checked for its type and shape before use: nothing a
client sends may raise anything but the refusals below (a 500 would also make the
service retry a bad request for hours).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

REPLAY_WINDOW = timedelta(minutes=5)
EVENT_IDS_KEPT = timedelta(days=3)
"""How long applied event ids are kept: longer than any service goes on redelivering an
event it is unsure arrived (SendGrid 24 hours, Mailgun and Postmark about 8-10 hours)."""
BounceKind = Literal["hard", "soft", "complaint"]


class Unauthorized(Exception):
    """The request is not proven to come from the provider: 401, nothing changes."""


class Forbidden(Exception):
    """Authentic, but from a sender this site does not take events from (a foreign SNS
    topic): 403, nothing changes."""


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
    delivery_key: str | None = None
    """The key the send put into the message (`<issue number>-<delivery id>`), as the
    service echoes it back: custom_args, Metadata, user-variables, tags."""
    message_id: str | None = None
    """The service's message id, which the ledger keeps as `provider_message_id`: finds
    the delivery where the service echoes no key."""


@dataclass(frozen=True)
class SignedToken:
    """A signature's one-time token: refused when seen again inside the replay window."""

    value: str
    signed_at: datetime


@dataclass(frozen=True)
class Verified:
    """What a verified request says: its events, and the token its signature used once."""

    events: list[BounceEvent] = field(default_factory=list)
    token: SignedToken | None = None


@dataclass(frozen=True)
class WebhookRequest:
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class WebhookSettings:
    secret: str | None
    now: datetime
    sns_certificate_url: re.Pattern[str] | None = None
    ses_topic_arns: frozenset[str] = frozenset()
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


def unix_time(value: object) -> datetime:
    """A signed Unix timestamp (ASCII digits, as the services send it), or Unauthorized."""
    text = str(value)
    if not re.fullmatch(r"[0-9]{1,11}", text):
        raise Unauthorized("the signed timestamp is not a number of seconds")
    return datetime.fromtimestamp(int(text), UTC)


def event_id_of(value: object, record: object = None) -> str | None:
    """A payload's event id as stored (at most 200 characters). Without one, a digest of
    the whole signed record stands in, so the same record sent again counts once."""
    if value is None or value == "" or isinstance(value, (dict, list)):
        if record is None:
            return None
        canonical = json.dumps(record, sort_keys=True, ensure_ascii=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return str(value)[:200]


def as_dict(value: object) -> dict[str, Any]:
    """A JSON object of a payload, or an empty one where it holds anything else."""
    return value if isinstance(value, dict) else {}


def text_of(value: object, limit: int = 400) -> str:
    """A payload's value as text for a log or a detail, whatever its JSON type."""
    return ("" if value is None else str(value))[:limit]


def key_of(value: object) -> str | None:
    """A delivery key as the send wrote it, or None for anything else."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # SES tags are lists of values
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}-[0-9]{1,12}", value):
        return value
    return None


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadPayload(f"the body is not JSON: {exc}") from exc
