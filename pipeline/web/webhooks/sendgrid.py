"""SendGrid's signed event webhook: an ECDSA (P-256, SHA-256) signature over the
timestamp header followed by the raw body, checked with the public key SendGrid shows.

Events: `bounce` (type `bounce` is hard, `blocked` soft), `dropped` for a bounced
address, `spamreport` (a complaint). `deferred` is SendGrid still trying: ignored. The send puts
the delivery key into each personalization's `custom_args`, which every event carries
as a field of its own.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    Unauthorized,
    Verified,
    WebhookRequest,
    WebhookSettings,
    check_fresh,
    event_id_of,
    key_of,
    parse_json,
    require_secret,
    text_of,
    unix_time,
)

SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"


def _public_key(secret: str) -> ec.EllipticCurvePublicKey:
    """The key as SendGrid shows it (base64 DER), or as PEM."""
    try:
        if "BEGIN PUBLIC KEY" in secret:
            key = load_pem_public_key(secret.encode())
        else:
            key = load_der_public_key(base64.b64decode(secret))
    except (ValueError, binascii.Error) as exc:
        raise Unauthorized("NEWSLETTER_WEBHOOK_SECRET_SENDGRID is not a public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Unauthorized("NEWSLETTER_WEBHOOK_SECRET_SENDGRID is not an ECDSA public key")
    return key


def read(request: WebhookRequest, settings: WebhookSettings) -> Verified:
    key = _public_key(require_secret(settings))
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signed_at = unix_time(timestamp)
    try:
        signature = base64.b64decode(request.headers.get(SIGNATURE_HEADER, ""), validate=True)
        key.verify(signature, timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise Unauthorized("the signature does not match") from exc
    check_fresh(signed_at, settings)
    events = parse_json(request.body)
    if not isinstance(events, list):
        raise BadPayload("expected a JSON array of events")
    found = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("email"), str):
            raise BadPayload("expected events with an `email`")
        kind = _kind(event)
        if kind is not None:
            detail = f"sendgrid {text_of(event.get('event'))}: {text_of(event.get('reason'))}"
            found.append(
                BounceEvent(
                    event["email"],
                    kind,
                    detail[:400],
                    event_id_of(event.get("sg_event_id"), event),
                    delivery_key=key_of(event.get("delivery_key")),
                )
            )
    return Verified(found)


def _kind(event: dict[str, object]) -> BounceKind | None:
    name = event.get("event")
    if name == "bounce":
        return "soft" if event.get("type") == "blocked" else "hard"
    if name == "dropped" and event.get("reason") == "Bounced Address":
        return "hard"
    if name == "spamreport":
        return "complaint"
    return None
