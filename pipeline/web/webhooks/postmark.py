"""Postmark's bounce and spam-complaint webhooks, secured by basic auth in the webhook URL.

https://postmarkapp.com/developer/webhooks/bounce-webhook: one JSON record per request,
`RecordType` "Bounce" (with a bounce `Type`) or "SpamComplaint". The send puts the
delivery key into `Metadata`, which these records carry back.
"""

from __future__ import annotations

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    Verified,
    WebhookRequest,
    WebhookSettings,
    as_dict,
    check_basic_auth,
    event_id_of,
    key_of,
    parse_json,
    text_of,
)

KINDS: dict[str, BounceKind] = {
    "HardBounce": "hard",
    "BadEmailAddress": "hard",
    "ManuallyDeactivated": "hard",
    "SoftBounce": "soft",
    "Transient": "soft",
    "DnsError": "soft",
    "SpamComplaint": "complaint",
}


def read(request: WebhookRequest, settings: WebhookSettings) -> Verified:
    check_basic_auth(request, settings)
    record = parse_json(request.body)
    if not isinstance(record, dict) or not isinstance(record.get("Email"), str):
        raise BadPayload("expected a Postmark record with an `Email`")
    if record.get("RecordType") == "SpamComplaint":
        kind: BounceKind | None = "complaint"
    elif record.get("RecordType", "Bounce") == "Bounce":
        kind = KINDS.get(str(record.get("Type")))
    else:
        kind = None
    if kind is None:
        return Verified()
    detail = f"postmark {text_of(record.get('Type'))}: {text_of(record.get('Description'))}"
    event = BounceEvent(
        record["Email"],
        kind,
        detail[:400],
        event_id_of(record.get("ID"), record),
        delivery_key=key_of(as_dict(record.get("Metadata")).get("delivery_key")),
        message_id=text_of(record.get("MessageID"), 300) or None,
    )
    return Verified([event])
