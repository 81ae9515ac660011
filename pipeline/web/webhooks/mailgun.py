"""Mailgun's webhooks: the body carries `signature` {timestamp, token, signature} and
`event-data`; the signature is HMAC-SHA256 of timestamp + token with the signing key.

`failed` with severity `permanent` is a hard bounce, `temporary` a soft one;
`complained` is a complaint.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    Unauthorized,
    WebhookRequest,
    WebhookSettings,
    check_fresh,
    event_id_of,
    parse_json,
    require_secret,
)


def read(request: WebhookRequest, settings: WebhookSettings) -> list[BounceEvent]:
    key = require_secret(settings)
    payload = parse_json(request.body)
    signature = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(signature, dict):
        raise Unauthorized("no signature in the body")
    timestamp = str(signature.get("timestamp", ""))
    token = str(signature.get("token", ""))
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(signature.get("signature", ""))):
        raise Unauthorized("the signature does not match")
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except ValueError as exc:
        raise Unauthorized("the signed timestamp is not a number") from exc
    check_fresh(signed_at, settings)
    event = payload.get("event-data")
    if not isinstance(event, dict) or not isinstance(event.get("recipient"), str):
        raise BadPayload("expected `event-data` with a `recipient`")
    kind: BounceKind | None = None
    if event.get("event") == "failed":
        kind = "hard" if event.get("severity") == "permanent" else "soft"
    elif event.get("event") == "complained":
        kind = "complaint"
    if kind is None:
        return []
    status = event.get("delivery-status") or {}
    detail = f"mailgun {event['event']}: {status.get('description') or status.get('message', '')}"
    return [BounceEvent(event["recipient"], kind, detail[:400], event_id_of(event.get("id")))]
