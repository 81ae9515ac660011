"""Amazon SES notifications delivered by SNS, verified by SNS's signing certificate.

The certificate's URL must be on the SNS host of the configured region (`provider.region`),
over https; the signature (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) covers the
documented fields in their documented order.

Any AWS account can make a topic and sign with SNS's certificates, so a valid signature
proves only that SNS sent the message: its `TopicArn` must be one of
`provider.ses_topic_arns`, else it is refused (403) before anything is fetched. Only a
SubscriptionConfirmation of such a topic is confirmed, by visiting its SubscribeURL, which
must be on the certificate's SNS host.

The send tags each message with its delivery key (`EmailTags`); SES publishes tags with
events of a configuration set, and every notification names SES's `messageId`, which the
ledger keeps too.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pipeline.web.webhooks.common import (
    BadPayload,
    BounceEvent,
    BounceKind,
    Forbidden,
    Unauthorized,
    Verified,
    WebhookRequest,
    WebhookSettings,
    as_dict,
    check_fresh,
    key_of,
    parse_json,
    text_of,
)

log = logging.getLogger(__name__)

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def string_to_sign(message: dict[str, Any]) -> bytes:
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(
        f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None
    ).encode()


# SNS signs with few certificates; each is fetched once per process, by its URL.
_certificates: dict[str, x509.Certificate] = {}


def _certificate(url: str, fetch: Callable[[str], bytes]) -> x509.Certificate:
    if url not in _certificates:
        _certificates[url] = x509.load_pem_x509_certificate(fetch(url))
    return _certificates[url]


def _verify(message: dict[str, Any], settings: WebhookSettings) -> None:
    url = str(message.get("SigningCertURL", ""))
    pattern = settings.sns_certificate_url
    if pattern is None:
        raise Unauthorized("provider.region is not set: SNS certificates cannot be checked")
    if not pattern.fullmatch(url):
        raise Unauthorized("the signing certificate is not on the region's SNS host")
    assert settings.fetch is not None
    try:
        certificate = _certificate(url, settings.fetch)
    except ValueError as exc:
        raise Unauthorized("the signing certificate cannot be read") from exc
    if not certificate.not_valid_before_utc <= settings.now <= certificate.not_valid_after_utc:
        raise Unauthorized("the signing certificate is not valid now")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Unauthorized("the signing certificate has no RSA key")
    algorithm: hashes.HashAlgorithm = (
        hashes.SHA256() if str(message.get("SignatureVersion")) == "2" else hashes.SHA1()  # noqa: S303
    )
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise Unauthorized("the signature does not match") from exc
    try:
        signed_at = datetime.fromisoformat(str(message.get("Timestamp")).replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unauthorized("the signed timestamp is not a date") from exc
    if signed_at.tzinfo is None:
        raise Unauthorized("the signed timestamp names no time zone")
    check_fresh(signed_at, settings)


def _check_topic(message: dict[str, Any], settings: WebhookSettings) -> None:
    topic = message.get("TopicArn")
    if isinstance(topic, str) and topic in settings.ses_topic_arns:
        return
    # Logged as a repr, so that a line break in it cannot forge a log line.
    log.warning("webhook ses: refused topic %r: not in provider.ses_topic_arns", text_of(topic))
    raise Forbidden("the SNS topic is not one of provider.ses_topic_arns")


def _confirm(message: dict[str, Any], settings: WebhookSettings) -> None:
    """Visit the SubscribeURL, on the very scheme and host the certificate came from."""
    subscribe = urlsplit(str(message.get("SubscribeURL", "")))
    certificate = urlsplit(str(message.get("SigningCertURL", "")))
    if (subscribe.scheme, subscribe.netloc) != (
        certificate.scheme,
        certificate.netloc,
    ) or subscribe.username is not None:
        raise BadPayload("the SubscribeURL is not on the SNS host")
    assert settings.fetch is not None
    settings.fetch(subscribe.geturl())
    log.info("webhook ses: confirmed the subscription to %s", message.get("TopicArn"))


def read(request: WebhookRequest, settings: WebhookSettings) -> Verified:
    message = parse_json(request.body)
    if not isinstance(message, dict):
        raise Unauthorized("not an SNS message")
    _check_topic(message, settings)
    _verify(message, settings)
    if message.get("Type") == "SubscriptionConfirmation":
        _confirm(message, settings)
        return Verified()
    if message.get("Type") != "Notification":
        return Verified()
    return Verified(notification_events(parse_json(str(message.get("Message", "")).encode())))


def notification_events(notification: Any) -> list[BounceEvent]:
    """SES's notification (`notificationType`) or event-publishing (`eventType`) format."""
    if not isinstance(notification, dict):
        raise BadPayload("the SNS Message is not an SES notification")
    kind_name = notification.get("notificationType") or notification.get("eventType")
    if kind_name == "Bounce":
        bounce = as_dict(notification.get("bounce"))
        kind: BounceKind = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        detail = (
            f"ses bounce {text_of(bounce.get('bounceType'))}/{text_of(bounce.get('bounceSubType'))}"
        )
        recipients = bounce.get("bouncedRecipients")
        feedback_id = bounce.get("feedbackId")
    elif kind_name == "Complaint":
        complaint = as_dict(notification.get("complaint"))
        kind = "complaint"
        detail = f"ses complaint: {text_of(complaint.get('complaintFeedbackType'))}"
        recipients = complaint.get("complainedRecipients")
        feedback_id = complaint.get("feedbackId")
    else:
        return []
    mail = as_dict(notification.get("mail"))
    delivery_key = key_of(as_dict(mail.get("tags")).get("delivery_key"))
    message_id = text_of(mail.get("messageId"), 300) or None
    return [
        BounceEvent(
            recipient["emailAddress"],
            kind,
            detail[:400],
            # One feedbackId per notification, which may name several recipients.
            f"{text_of(feedback_id)}/{recipient['emailAddress']}"[:200] if feedback_id else None,
            delivery_key=delivery_key,
            message_id=message_id,
        )
        for recipient in (recipients if isinstance(recipients, list) else [])
        if isinstance(recipient, dict) and isinstance(recipient.get("emailAddress"), str)
    ]
