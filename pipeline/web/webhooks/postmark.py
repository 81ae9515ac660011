"""Postmark's bounce and spam-complaint webhooks, secured by basic auth in the webhook URL.

https://postmarkapp.com/developer/webhooks/bounce-webhook: one JSON record per request,
`RecordType` "Bounce" (with a bounce `Type`) or "SpamComplaint".
"""

from __future__ import annotations

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    WebhookRequest,
    WebhookSettings,
    check_basic_auth,
    event_id_of,
    parse_json,
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


def read(request: WebhookRequest, settings: WebhookSettings) -> list[BounceEvent]:
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
        return []
    detail = f"postmark {record.get('Type')}: {record.get('Description', '')}"
    return [BounceEvent(record["Email"], kind, detail[:400], event_id_of(record.get("ID")))]
