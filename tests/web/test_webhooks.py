"""Bounce and complaint webhooks: each provider's documented sample, signed well and badly.

The payloads follow the samples in each provider's docs (Postmark's bounce webhook page,
Mailgun's webhook payloads, SendGrid's event webhook reference, Brevo's transactional
webhooks, SES's SNS notification examples); addresses are the test's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from pipeline import db
from pipeline.bounces.apply import apply_verdict
from pipeline.bounces.verdict import Verdict
from pipeline.collect import collect
from pipeline.db import deliveries, issues
from pipeline.issue.build import build_issue
from pipeline.send.reader_changes import SoftBounceRule
from pipeline.web.webhooks.ses import string_to_sign
from subscribers import suppression
from subscribers.schema import soft_bounce_events
from tests.conftest import Project
from tests.web.conftest import Site, make_site

BASIC = "hook:s3cret-pass"
MAILGUN_KEY = "mailgun-signing-key-for-tests"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()
SES_TOPIC = "arn:aws:sns:eu-central-1:123456789012:ses-bounces"
SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(SNS_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(SNS_KEY, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


class CertificateServer:
    """Serves the self-made SNS certificate on loopback and records what was fetched."""

    def __init__(self) -> None:
        self.files = {"/SimpleNotificationService-test.pem": _certificate(), "/confirm": b"ok"}
        self.fetched: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetched.append(self.path)
                body = outer.files.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def certificates() -> Iterator[CertificateServer]:
    server = CertificateServer()
    yield server
    server.server.shutdown()


@pytest.fixture
def hooks(project: Project, certificates: CertificateServer) -> Iterator[Site]:
    secrets = {
        "postmark": BASIC,
        "brevo": BASIC,
        "mailgun": MAILGUN_KEY,
        "sendgrid": SENDGRID_PUBLIC,
    }
    project.edit_config(
        lambda raw: raw.setdefault("provider", {}).update(ses_topic_arns=[SES_TOPIC])  # type: ignore[attr-defined]
    )
    # Only tests may point the SNS certificate check at another host than the region's.
    pattern = re.compile(re.escape(certificates.url) + r"/[A-Za-z0-9_./-]+\.pem")
    yield from make_site(project, webhook_secrets=secrets, sns_certificate_url=pattern)


def _post(
    site: Site, provider: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    with site.client() as client:
        return client.post(f"/webhooks/{provider}", content=body, headers=headers or {})


def _basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


POSTMARK_BOUNCE = {
    "RecordType": "Bounce",
    "ID": 42,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "Test",
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Description": "The server was unable to deliver your message "
    "(ex: unknown user, mailbox not found).",
    "Details": "Test bounce details",
    "Email": "john@example.com",
    "BouncedAt": "2014-08-01T13:28:10.2735393-04:00",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Test subject",
    "Metadata": {"user_id": 43},
}


def test_postmark_hard_bounce_suppresses_with_good_credentials_only(hooks: Site) -> None:
    hooks.add_active("john@example.com")
    body = json.dumps(POSTMARK_BOUNCE).encode()
    assert _post(hooks, "postmark", body, _basic("hook:wrong")).status_code == 401
    assert _post(hooks, "postmark", body).status_code == 401
    assert hooks.state("john@example.com") == "active"
    assert _post(hooks, "postmark", body, _basic(BASIC)).status_code == 200
    assert hooks.state("john@example.com") == "bounced"
    _assert_suppressed(hooks, "john@example.com", "hard_bounce")


def test_a_bounce_of_a_look_alike_address_leaves_the_real_one_alone(hooks: Site) -> None:
    """A bounce from `preße-netzwerk.de` (another domain) must not suppress `presse-`."""
    hooks.add_active("anna@presse-netzwerk.de")
    bounce = POSTMARK_BOUNCE | {"Email": "anna@preße-netzwerk.de", "ID": 4711}
    assert _post(hooks, "postmark", json.dumps(bounce).encode(), _basic(BASIC)).status_code == 200
    assert hooks.state("anna@presse-netzwerk.de") == "active"
    with hooks.engine.connect() as connection:
        assert suppression.reason_for(connection, "anna@presse-netzwerk.de") is None
        assert suppression.reason_for(connection, "anna@xn--pree-netzwerk-ddb.de") == "hard_bounce"


def test_postmark_spam_complaint_marks_complained(hooks: Site) -> None:
    hooks.add_active("john@example.com")
    complaint = POSTMARK_BOUNCE | {
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
    }
    assert (
        _post(hooks, "postmark", json.dumps(complaint).encode(), _basic(BASIC)).status_code == 200
    )
    assert hooks.state("john@example.com") == "complained"


def _mailgun(
    event: dict[str, object], timestamp: int, key: str = MAILGUN_KEY, token: str | None = None
) -> bytes:
    """A webhook POST as Mailgun makes it: a fresh 50-character token on every request."""
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {
            "signature": {"timestamp": str(timestamp), "token": token, "signature": signature},
            "event-data": event,
        }
    ).encode()


MAILGUN_FAILED = {
    "event": "failed",
    "id": "G9Bn5sl1TC6nu79C8C0bwg",
    "timestamp": 1521233195.375624,
    "log-level": "error",
    "severity": "permanent",
    "reason": "suppress-bounce",
    "recipient": "alice@example.com",
    "recipient-domain": "example.com",
    "delivery-status": {
        "attempt-no": 1,
        "message": "",
        "code": 605,
        "description": "Not delivering to previously bounced address",
        "session-seconds": 0.0,
    },
    "message": {
        "headers": {
            "to": "Alice <alice@example.com>",
            "message-id": "20130503182626.18666.16540@example.org",
        }
    },
}


def test_mailgun_permanent_failure_with_good_and_bad_signature(hooks: Site) -> None:
    hooks.add_active("alice@example.com")
    now = int(datetime.now(UTC).timestamp())
    assert _post(hooks, "mailgun", _mailgun(MAILGUN_FAILED, now, key="wrong")).status_code == 401
    assert hooks.state("alice@example.com") == "active"
    assert _post(hooks, "mailgun", _mailgun(MAILGUN_FAILED, now)).status_code == 200
    assert hooks.state("alice@example.com") == "bounced"


def test_mailgun_replayed_old_signature_is_refused(hooks: Site) -> None:
    hooks.add_active("alice@example.com")
    old = int((datetime.now(UTC) - timedelta(minutes=6)).timestamp())
    answer = _post(hooks, "mailgun", _mailgun(MAILGUN_FAILED, old))
    assert answer.status_code == 401 and "replay" in answer.json()["error"]
    assert hooks.state("alice@example.com") == "active"


def _soft_bounce(event_id: str) -> dict[str, object]:
    return MAILGUN_FAILED | {"severity": "temporary", "id": event_id}


def test_soft_bounces_suppress_after_the_configured_number(hooks: Site) -> None:
    hooks.add_active("alice@example.com")
    for n in range(2):
        now = int(datetime.now(UTC).timestamp())
        assert _post(hooks, "mailgun", _mailgun(_soft_bounce(f"soft-{n}"), now)).status_code == 200
        assert hooks.state("alice@example.com") == "active"
    now = int(datetime.now(UTC).timestamp())
    _post(hooks, "mailgun", _mailgun(_soft_bounce("soft-2"), now))
    assert hooks.state("alice@example.com") == "bounced"
    _assert_suppressed(hooks, "alice@example.com", "soft_bounces")


def _old_soft_bounces(site: Site, address: str, *days_ago: int) -> None:
    reader = site.subscriber(address)
    with site.engine.begin() as connection:
        for days in days_ago:
            connection.execute(
                sa.insert(soft_bounce_events).values(
                    subscriber_id=reader.id, at=db.now() - timedelta(days=days)
                )
            )


def test_soft_bounces_older_than_soft_bounce_days_no_longer_count(hooks: Site) -> None:
    """The window is `subscriptions.soft_bounce_days` (30), the bounce mailbox's too."""
    hooks.add_active("alice@example.com")
    _old_soft_bounces(hooks, "alice@example.com", 45, 40, 31)
    for n in range(2):
        now = int(datetime.now(UTC).timestamp())
        assert _post(hooks, "mailgun", _mailgun(_soft_bounce(f"soft-{n}"), now)).status_code == 200
        assert hooks.state("alice@example.com") == "active", "the old ones are outside"
    now = int(datetime.now(UTC).timestamp())
    _post(hooks, "mailgun", _mailgun(_soft_bounce("soft-2"), now))
    assert hooks.state("alice@example.com") == "bounced"


def test_soft_bounces_by_webhook_and_by_mail_count_together(hooks: Site) -> None:
    reader = hooks.add_active("alice@example.com")
    for n in range(2):
        now = int(datetime.now(UTC).timestamp())
        assert _post(hooks, "mailgun", _mailgun(_soft_bounce(f"soft-{n}"), now)).status_code == 200
    at = db.now()
    with hooks.engine.begin() as connection:
        issue_id = connection.execute(
            sa.insert(issues)
            .values(number=7, subject="Ausgabe", state="sent", created_at=at)
            .returning(issues.c.id)
        ).scalar_one()
        delivery_id = connection.execute(
            sa.insert(deliveries)
            .values(issue_id=issue_id, subscriber_id=reader.id, state="sent", updated_at=at)
            .returning(deliveries.c.id)
        ).scalar_one()
        rule = SoftBounceRule.of(hooks.config.subscriptions)
        mailed = Verdict("soft", (delivery_id,), "4.2.2", "452 mailbox full")
        apply_verdict(connection, mailed, rule, at)
    assert hooks.state("alice@example.com") == "bounced", "the third, from the bounce mailbox"
    _assert_suppressed(hooks, "alice@example.com", "soft_bounces")


def test_a_soft_bounce_delivered_again_counts_once(hooks: Site) -> None:
    hooks.add_active("alice@example.com")
    answers = []
    for _ in range(3):  # the service was unsure the first delivery arrived
        now = int(datetime.now(UTC).timestamp())
        answers.append(_post(hooks, "mailgun", _mailgun(_soft_bounce("same-event"), now)).json())
    assert [answer["applied"] for answer in answers] == [1, 0, 0]
    assert hooks.state("alice@example.com") == "active"


SG_MESSAGE_ID = "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0"
SENDGRID_EVENTS = [
    {
        "email": "invalid@example.com",
        "event": "processed",
        "send_at": 0,
        "sg_event_id": "cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA",
        "sg_message_id": SG_MESSAGE_ID,
        "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
        "timestamp": 1619651146,
    },
    {
        "email": "invalid@example.com",
        "event": "bounce",
        "ip": "167.89.101.76",
        "reason": "552 5.2.2 The email account that you tried to reach is over quota and inactive.",
        "sg_event_id": "Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w",
        "sg_message_id": SG_MESSAGE_ID,
        "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
        "status": "5.2.2",
        "timestamp": 1619651149,
        "tls": 1,
        "type": "bounce",
    },
    {
        "email": "spam@example.com",
        "event": "spamreport",
        "timestamp": 1619651150,
        "sg_event_id": "c3BhbQ",
    },
]


def _sendgrid_headers(
    body: bytes, timestamp: int, key: ec.EllipticCurvePrivateKey = SENDGRID_KEY
) -> dict[str, str]:
    signature = key.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": str(timestamp),
    }


def test_sendgrid_signed_events_with_good_and_bad_signature(hooks: Site) -> None:
    hooks.add_active("invalid@example.com")
    hooks.add_active("spam@example.com")
    body = json.dumps(SENDGRID_EVENTS).encode()
    now = int(datetime.now(UTC).timestamp())
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert (
        _post(hooks, "sendgrid", body, _sendgrid_headers(body, now, other_key)).status_code == 401
    )
    tampered = body.replace(b"spamreport", b"delivered")
    assert _post(hooks, "sendgrid", tampered, _sendgrid_headers(body, now)).status_code == 401
    assert hooks.state("invalid@example.com") == "active"
    assert _post(hooks, "sendgrid", body, _sendgrid_headers(body, now)).status_code == 200
    assert hooks.state("invalid@example.com") == "bounced"
    assert hooks.state("spam@example.com") == "complained"


def test_sendgrid_replay_is_refused(hooks: Site) -> None:
    hooks.add_active("invalid@example.com")
    body = json.dumps(SENDGRID_EVENTS).encode()
    old = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp())
    assert _post(hooks, "sendgrid", body, _sendgrid_headers(body, old)).status_code == 401
    assert hooks.state("invalid@example.com") == "active"


BREVO_HARD_BOUNCE = {
    "event": "hard_bounce",
    "email": "example@example.com",
    "id": 1234,
    "date": "2020-10-09 00:00:00",
    "ts": 1604933619,
    "message-id": "201798300811.5787683@relay.domain.com",
    "ts_event": 1604933654,
    "subject": "My first Transactional",
    "tag": '["transactionalTag"]',
    "sending_ip": "185.41.28.109",
    "ts_epoch": 1604933653,
    "reason": "spam",
}


def test_brevo_hard_bounce_with_good_and_bad_credentials(hooks: Site) -> None:
    hooks.add_active("example@example.com")
    body = json.dumps(BREVO_HARD_BOUNCE).encode()
    assert _post(hooks, "brevo", body, _basic("hook:nope")).status_code == 401
    assert hooks.state("example@example.com") == "active"
    assert _post(hooks, "brevo", body, _basic(BASIC)).status_code == 200
    assert hooks.state("example@example.com") == "bounced"


SES_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "reportingMTA": "dns; email.example.com",
        "bouncedRecipients": [
            {
                "emailAddress": "jane@example.com",
                "status": "5.1.1",
                "action": "failed",
                "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>... User",
            }
        ],
        "bounceSubType": "General",
        "timestamp": "2016-01-27T14:59:38.237Z",
        "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
        "remoteMtaIp": "127.0.2.0",
    },
    "mail": {
        "timestamp": "2016-01-27T14:59:38.237Z",
        "source": "john@example.com",
        "sourceArn": "arn:aws:ses:us-east-1:888888888888:identity/example.com",
        "sourceIp": "127.0.3.0",
        "sendingAccountId": "123456789012",
        "messageId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
        "destination": ["jane@example.com"],
    },
}


def _sns_confirmation(certificates: CertificateServer, token: str, **fields: str) -> bytes:
    """A signed SubscriptionConfirmation whose SubscribeURL is on the certificate server."""
    return _sns(
        certificates.url + "/SimpleNotificationService-test.pem",
        {"note": "confirm"},
        kind="SubscriptionConfirmation",
        SubscribeURL=f"{certificates.url}/confirm?Token={token}",
        Token=token,
        **fields,
    )


def _sns(
    cert_url: str,
    message: dict[str, object],
    *,
    kind: str = "Notification",
    at: datetime | None = None,
    **extra: str,
) -> bytes:
    envelope: dict[str, object] = {
        "Type": kind,
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": SES_TOPIC,
        "Message": json.dumps(message),
        "Timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "SignatureVersion": "2",
        "SigningCertURL": cert_url,
        **extra,
    }
    signature = SNS_KEY.sign(string_to_sign(envelope), padding.PKCS1v15(), hashes.SHA256())
    envelope["Signature"] = base64.b64encode(signature).decode()
    return json.dumps(envelope).encode()


def test_ses_bounce_through_sns_with_verified_certificate(
    hooks: Site, certificates: CertificateServer
) -> None:
    hooks.add_active("jane@example.com")
    cert_url = certificates.url + "/SimpleNotificationService-test.pem"
    body = _sns(cert_url, SES_BOUNCE)
    tampered = body.replace(b"Permanent", b"Transient")
    assert _post(hooks, "ses", tampered).status_code == 401
    assert hooks.state("jane@example.com") == "active"
    assert _post(hooks, "ses", body).status_code == 200
    assert hooks.state("jane@example.com") == "bounced"


def test_ses_certificate_from_another_host_is_refused(
    hooks: Site, certificates: CertificateServer
) -> None:
    hooks.add_active("jane@example.com")
    for url in (
        "http://localhost:1/SimpleNotificationService-test.pem",
        "https://sns.eu-central-1.amazonaws.com.evil.example/cert.pem",
        certificates.url + "/SimpleNotificationService-test.pem?x=https://sns",
    ):
        assert _post(hooks, "ses", _sns(url, SES_BOUNCE)).status_code == 401, url
    assert hooks.state("jane@example.com") == "active"
    assert certificates.fetched == []


def test_ses_old_notification_is_refused_as_replay(
    hooks: Site, certificates: CertificateServer
) -> None:
    hooks.add_active("jane@example.com")
    cert_url = certificates.url + "/SimpleNotificationService-test.pem"
    old = datetime.now(UTC) - timedelta(minutes=6)
    assert _post(hooks, "ses", _sns(cert_url, SES_BOUNCE, at=old)).status_code == 401
    assert hooks.state("jane@example.com") == "active"


def test_ses_subscription_is_confirmed_on_the_sns_host(
    hooks: Site, certificates: CertificateServer
) -> None:
    body = _sns_confirmation(certificates, "abc")
    assert _post(hooks, "ses", body).status_code == 200
    assert "/confirm?Token=abc" in certificates.fetched


def test_provider_without_a_secret_is_refused(site: Site) -> None:
    site.add_active("john@example.com")
    body = json.dumps(POSTMARK_BOUNCE).encode()
    assert _post(site, "postmark", body, _basic(BASIC)).status_code == 401
    now = int(datetime.now(UTC).timestamp())
    assert _post(site, "mailgun", _mailgun(MAILGUN_FAILED, now)).status_code == 401
    assert site.state("john@example.com") == "active"


def test_hard_bounce_cancels_pending_deliveries(hooks: Site) -> None:
    reader = hooks.add_active("john@example.com")
    collect(hooks.config, hooks.engine)
    built = build_issue(hooks.engine, hooks.config, db.now())
    assert (
        _post(hooks, "postmark", json.dumps(POSTMARK_BOUNCE).encode(), _basic(BASIC)).status_code
        == 200
    )
    with hooks.engine.connect() as connection:
        state = connection.execute(
            sa.select(db.deliveries.c.state).where(
                db.deliveries.c.issue_id == built.id, db.deliveries.c.subscriber_id == reader.id
            )
        ).scalar_one()
    assert state == "cancelled"


def _assert_suppressed(site: Site, address: str, reason: str) -> None:
    with site.engine.connect() as connection:
        assert suppression.reason_for(connection, address) == reason


def test_oversized_webhook_body_is_refused_unread(hooks: Site) -> None:
    answer = _post(hooks, "postmark", b"x" * 2_100_000, _basic(BASIC))
    assert answer.status_code == 413
