"""Mailgun's webhooks: the body carries `signature` {timestamp, token, signature} and
`event-data`; the signature is HMAC-SHA256 of timestamp + token with the signing key.

The signature does not cover `event-data`, so a signature block must work once: its
token is kept for the replay window, in the transaction that applies the events, and a
token seen before is refused (406, which Mailgun takes as "rejected, do not retry").

`failed` with severity `permanent` is a hard bounce, `temporary` a soft one;
`complained` is a complaint. The send puts the delivery key into `v:delivery_key`,
which events carry in `user-variables`.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    SignedToken,
    Unauthorized,
    Verified,
    WebhookRequest,
    WebhookSettings,
    as_dict,
    check_fresh,
    event_id_of,
    key_of,
    parse_json,
    require_secret,
    text_of,
    unix_time,
)

# Mailgun's tokens are 50 characters; its signatures 64 hex digits.
_TOKEN = re.compile(r"[A-Za-z0-9]{10,200}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def read(request: WebhookRequest, settings: WebhookSettings) -> Verified:
    key = require_secret(settings)
    payload = parse_json(request.body)
    signature = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(signature, dict):
        raise Unauthorized("no signature in the body")
    timestamp, token, given = (signature.get(name) for name in ("timestamp", "token", "signature"))
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise Unauthorized("the signature's token is malformed")
    if not isinstance(given, str) or not _SIGNATURE.fullmatch(given):
        raise Unauthorized("the signature is malformed")
    signed_at = unix_time(timestamp)
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the signature does not match")
    check_fresh(signed_at, settings)
    return Verified(_events(payload.get("event-data")), SignedToken(token, signed_at))


def _events(event: object) -> list[BounceEvent]:
    if not isinstance(event, dict) or not isinstance(event.get("recipient"), str):
        raise BadPayload("expected `event-data` with a `recipient`")
    kind: BounceKind | None = None
    if event.get("event") == "failed":
        kind = "hard" if event.get("severity") == "permanent" else "soft"
    elif event.get("event") == "complained":
        kind = "complaint"
    if kind is None:
        return []
    status = as_dict(event.get("delivery-status"))
    reason = text_of(status.get("description") or status.get("message"))
    headers = as_dict(as_dict(event.get("message")).get("headers"))
    return [
        BounceEvent(
            event["recipient"],
            kind,
            f"mailgun {event['event']}: {reason}"[:400],
            event_id_of(event.get("id")),
            delivery_key=key_of(as_dict(event.get("user-variables")).get("delivery_key")),
            message_id=text_of(headers.get("message-id"), 300) or None,
        )
    ]
