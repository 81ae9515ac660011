"""Webhook attacks from outside, through the real server: an SNS message from a foreign
AWS account's topic, a replayed Mailgun signature block with forged events, malformed
signatures; and what each provider's event leaves on the delivery it names."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.collect import collect
from pipeline.issue.build import build_issue
from pipeline.send.events import events_of
from subscribers import gdpr
from tests.conftest import Project
from tests.web import test_webhooks
from tests.web.conftest import Site, make_site
from tests.web.test_webhooks import (
    BASIC,
    MAILGUN_FAILED,
    POSTMARK_BOUNCE,
    SENDGRID_EVENTS,
    SES_BOUNCE,
    CertificateServer,
    _basic,
    _mailgun,
    _post,
    _sendgrid_headers,
    _sns,
    _sns_confirmation,
)

# The signed-webhook site and the loopback SNS certificate server of the webhook tests.
hooks = test_webhooks.hooks
certificates = test_webhooks.certificates

ATTACKER_TOPIC = "arn:aws:sns:eu-central-1:999999999999:attacker-topic"


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def test_ses_notification_from_a_foreign_topic_suppresses_nobody(
    hooks: Site, certificates: CertificateServer, caplog: pytest.LogCaptureFixture
) -> None:
    hooks.add_active("jane@example.com")
    cert_url = certificates.url + "/SimpleNotificationService-test.pem"
    # Signed by SNS's (here: the test's) certificate, as any AWS account's topic is.
    forged = _sns(cert_url, SES_BOUNCE, TopicArn=ATTACKER_TOPIC)
    with caplog.at_level(logging.WARNING):
        answer = _post(hooks, "ses", forged)
    assert answer.status_code == 403
    assert hooks.state("jane@example.com") == "active"
    assert ATTACKER_TOPIC in caplog.text
    assert certificates.fetched == [], "nothing is fetched for a foreign topic"
    assert _post(hooks, "ses", _sns(cert_url, SES_BOUNCE)).status_code == 200
    assert hooks.state("jane@example.com") == "bounced"


def test_ses_subscription_of_a_foreign_topic_is_never_confirmed(
    hooks: Site, certificates: CertificateServer
) -> None:
    body = _sns_confirmation(certificates, "evil", TopicArn=ATTACKER_TOPIC)
    assert _post(hooks, "ses", body).status_code == 403
    assert not any(path.startswith("/confirm") for path in certificates.fetched)


def test_ses_subscribe_url_on_another_scheme_is_not_visited(
    hooks: Site, certificates: CertificateServer
) -> None:
    cert_url = certificates.url + "/SimpleNotificationService-test.pem"
    other = certificates.url.replace("http://", "https://") + "/confirm?Token=abc"
    body = _sns(cert_url, {}, kind="SubscriptionConfirmation", SubscribeURL=other, Token="abc")
    assert _post(hooks, "ses", body).status_code == 400
    assert not any(path.startswith("/confirm") for path in certificates.fetched)


def _soft(event_id: str) -> dict[str, object]:
    return MAILGUN_FAILED | {"severity": "temporary", "id": event_id}


def test_one_mailgun_signature_block_replayed_with_forged_events_is_refused(
    hooks: Site,
) -> None:
    hooks.add_active("alice@example.com")
    now, token = _now(), "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    first = _post(hooks, "mailgun", _mailgun(_soft("real-1"), now, token=token))
    assert first.status_code == 200
    for forged in ("forged-2", "forged-3"):
        answer = _post(hooks, "mailgun", _mailgun(_soft(forged), now, token=token))
        assert answer.status_code == 406, "Mailgun does not retry a 406"
    assert hooks.state("alice@example.com") == "active"
    with hooks.engine.connect() as connection:
        soft = connection.execute(sa.text("SELECT soft_bounces FROM subscribers")).scalar()
    assert soft == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("signature", "ä" * 64),
        ("signature", "🙂"),
        ("signature", ["not", "text"]),
        ("token", "tökén-with-ümlauts-and-more-than-ten"),
        ("token", None),
        ("timestamp", "١٧٠٠٠٠٠٠٠٠"),  # Arabic-Indic digits: int() would take them
        ("timestamp", "99999999999999999999"),
        ("timestamp", {"a": 1}),
    ],
)
def test_malformed_mailgun_signature_is_401_never_500(
    hooks: Site, field: str, value: object
) -> None:
    hooks.add_active("alice@example.com")
    payload = json.loads(_mailgun(MAILGUN_FAILED, _now()))
    payload["signature"][field] = value
    answer = _post(hooks, "mailgun", json.dumps(payload).encode())
    assert answer.status_code == 401
    assert hooks.state("alice@example.com") == "active"


def test_malformed_event_data_is_never_a_500(hooks: Site) -> None:
    hooks.add_active("alice@example.com")
    odd = MAILGUN_FAILED | {"delivery-status": "text", "message": [1], "user-variables": 3}
    assert _post(hooks, "mailgun", _mailgun(odd, _now())).status_code == 200
    assert hooks.state("alice@example.com") == "bounced"


def test_sendgrid_timestamp_out_of_range_is_401(hooks: Site) -> None:
    body = json.dumps(SENDGRID_EVENTS).encode()
    headers = _sendgrid_headers(body, _now())
    headers["X-Twilio-Email-Event-Webhook-Timestamp"] = "9" * 30
    assert _post(hooks, "sendgrid", body, headers).status_code == 401


def test_a_failed_mailgun_request_is_accepted_when_retried_with_its_token(
    hooks: Site,
) -> None:
    """The database fails after the token is noted (a broken trigger: a real SQLite
    error); the request is answered 503, and Mailgun's retry of it is applied."""
    hooks.add_active("alice@example.com")
    path = Path(hooks.engine.url.database or "")
    with sqlite3.connect(path) as broken:
        broken.executescript(
            "CREATE TABLE outage (x INTEGER);"
            "CREATE TRIGGER outage BEFORE UPDATE ON subscribers "
            "BEGIN INSERT INTO outage VALUES (1); END;"
            "DROP TABLE outage;"
        )
    body = _mailgun(_soft("retried"), _now(), token="b" * 50)
    assert _post(hooks, "mailgun", body).status_code == 503
    with sqlite3.connect(path) as repaired:
        repaired.execute("DROP TRIGGER outage")
    answer = _post(hooks, "mailgun", body)
    assert answer.status_code == 200 and answer.json()["applied"] == 1


def _delivery(hooks: Site, address: str) -> tuple[int, str]:
    """A reader with a delivery of a built issue: its id and the key the send uses."""
    reader = hooks.add_active(address)
    collect(hooks.config, hooks.engine)
    built = build_issue(hooks.engine, hooks.config, db.now())
    with hooks.engine.connect() as connection:
        delivery_id = connection.execute(
            sa.select(db.deliveries.c.id).where(
                db.deliveries.c.issue_id == built.id, db.deliveries.c.subscriber_id == reader.id
            )
        ).scalar_one()
    return delivery_id, f"{built.number}-{delivery_id}"


def _events(hooks: Site, delivery_id: int) -> list[tuple[str, str]]:
    with hooks.engine.connect() as connection:
        return [(str(e["provider"]), str(e["kind"])) for e in events_of(connection, delivery_id)]


def test_postmark_event_is_kept_on_the_delivery_its_metadata_names(hooks: Site) -> None:
    delivery_id, key = _delivery(hooks, "john@example.com")
    record = POSTMARK_BOUNCE | {"Metadata": {"delivery_key": key}}
    assert _post(hooks, "postmark", json.dumps(record).encode(), _basic(BASIC)).status_code == 200
    assert _events(hooks, delivery_id) == [("postmark", "hard")]


def test_sendgrid_event_is_kept_on_the_delivery_its_custom_args_name(hooks: Site) -> None:
    delivery_id, key = _delivery(hooks, "spam@example.com")
    body = json.dumps([SENDGRID_EVENTS[2] | {"delivery_key": key}]).encode()
    assert _post(hooks, "sendgrid", body, _sendgrid_headers(body, _now())).status_code == 200
    assert _events(hooks, delivery_id) == [("sendgrid", "complaint")]


def test_mailgun_event_is_kept_on_the_delivery_its_user_variables_name(hooks: Site) -> None:
    delivery_id, key = _delivery(hooks, "alice@example.com")
    event = _soft("with-key") | {"user-variables": {"delivery_key": key}}
    assert _post(hooks, "mailgun", _mailgun(event, _now())).status_code == 200
    assert _events(hooks, delivery_id) == [("mailgun", "soft")]


def test_brevo_event_is_kept_on_the_delivery_its_custom_header_names(hooks: Site) -> None:
    delivery_id, key = _delivery(hooks, "example@example.com")
    record = {
        "event": "soft_bounce",
        "email": "example@example.com",
        "message-id": "<201798300811.5787683@relay.domain.com>",
        "ts_event": 1604933654,
        "reason": "mailbox full",
        "X-Mailin-custom": key,
    }
    assert _post(hooks, "brevo", json.dumps(record).encode(), _basic(BASIC)).status_code == 200
    assert _events(hooks, delivery_id) == [("brevo", "soft")]


def test_ses_event_is_kept_on_the_delivery_its_tags_name(
    hooks: Site, certificates: CertificateServer
) -> None:
    delivery_id, key = _delivery(hooks, "jane@example.com")
    notification = SES_BOUNCE | {"mail": SES_BOUNCE["mail"] | {"tags": {"delivery_key": [key]}}}
    cert_url = certificates.url + "/SimpleNotificationService-test.pem"
    assert _post(hooks, "ses", _sns(cert_url, notification)).status_code == 200
    assert _events(hooks, delivery_id) == [("ses", "hard")]


def test_ses_event_without_tags_finds_the_delivery_by_its_message_id(
    hooks: Site, certificates: CertificateServer
) -> None:
    delivery_id, _key = _delivery(hooks, "jane@example.com")
    with hooks.engine.begin() as connection:
        connection.execute(
            sa.update(db.deliveries)
            .where(db.deliveries.c.id == delivery_id)
            .values(state="sent", provider_message_id=SES_BOUNCE["mail"]["messageId"])  # type: ignore[index]
        )
    cert_url = certificates.url + "/SimpleNotificationService-test.pem"
    assert _post(hooks, "ses", _sns(cert_url, SES_BOUNCE)).status_code == 200
    assert _events(hooks, delivery_id) == [("ses", "hard")]


def test_a_key_naming_another_readers_delivery_is_not_believed(hooks: Site) -> None:
    delivery_id, key = _delivery(hooks, "john@example.com")
    hooks.add_active("other@example.com")
    record = POSTMARK_BOUNCE | {"Email": "other@example.com", "Metadata": {"delivery_key": key}}
    assert _post(hooks, "postmark", json.dumps(record).encode(), _basic(BASIC)).status_code == 200
    assert _events(hooks, delivery_id) == []


def test_old_tokens_and_event_ids_are_pruned_and_recent_ones_kept(hooks: Site) -> None:
    now = datetime.now(UTC)
    with hooks.engine.begin() as connection:
        connection.execute(
            sa.insert(db.webhook_tokens),
            [
                {"provider": "mailgun", "token": "old" * 10, "signed_at": now - timedelta(hours=1)},
                {"provider": "mailgun", "token": "new" * 10, "signed_at": now},
            ],
        )
        connection.execute(
            sa.insert(db.webhook_events),
            [
                {"provider": "postmark", "event_id": "old", "received_at": now - timedelta(days=4)},
                {"provider": "postmark", "event_id": "new", "received_at": now - timedelta(days=1)},
            ],
        )
    hooks.add_active("john@example.com")
    assert (
        _post(hooks, "postmark", json.dumps(POSTMARK_BOUNCE).encode(), _basic(BASIC)).status_code
        == 200
    )
    with hooks.engine.connect() as connection:
        tokens = set(connection.execute(sa.select(db.webhook_tokens.c.token)).scalars())
        ids = set(connection.execute(sa.select(db.webhook_events.c.event_id)).scalars())
    assert tokens == {"new" * 10}
    assert ids == {"new", "42"}


def test_basic_auth_with_non_ascii_credentials_is_401(hooks: Site) -> None:
    headers = {"Authorization": "Basic " + base64.b64encode("hök:pässwört".encode()).decode()}
    assert _post(hooks, "postmark", b"{}", headers).status_code == 401


def test_erasing_a_reader_deletes_their_deliveries_events(hooks: Site) -> None:
    delivery_id, key = _delivery(hooks, "john@example.com")
    record = POSTMARK_BOUNCE | {"Metadata": {"delivery_key": key}}
    assert _post(hooks, "postmark", json.dumps(record).encode(), _basic(BASIC)).status_code == 200
    with hooks.engine.begin() as connection:
        exported = gdpr.export_person(connection, "john@example.com")
        assert exported is not None
        # What the service said of the reader's mail is theirs to see, and goes with them.
        said = exported["records"]["delivery_events"]
        assert [(event["delivery_id"], event["kind"]) for event in said] == [(delivery_id, "hard")]
        assert gdpr.erase(connection, "john@example.com")
    assert _events(hooks, delivery_id) == []


@pytest.fixture
def postgres_hooks(project: Project, postgres_url: str) -> Iterator[Site]:
    project.edit_config(lambda raw: raw.update(database={"url": postgres_url}))
    yield from make_site(project, webhook_secrets={"mailgun": test_webhooks.MAILGUN_KEY})


def test_mailgun_replay_is_refused_and_the_event_kept_on_postgresql(
    postgres_hooks: Site,
) -> None:
    delivery_id, key = _delivery(postgres_hooks, "alice@example.com")
    now, token = _now(), "c" * 50
    event = _soft("pg-1") | {"user-variables": {"delivery_key": key}}
    assert _post(postgres_hooks, "mailgun", _mailgun(event, now, token=token)).status_code == 200
    forged = _mailgun(_soft("pg-2"), now, token=token)
    assert _post(postgres_hooks, "mailgun", forged).status_code == 406
    assert _events(postgres_hooks, delivery_id) == [("mailgun", "soft")]


def test_a_delivery_key_past_any_row_id_is_ignored_on_postgresql(postgres_hooks: Site) -> None:
    """PostgreSQL's ids are 32-bit: a larger key names no delivery, it is no 500 to retry."""
    delivery_id, _key = _delivery(postgres_hooks, "alice@example.com")
    event = _soft("pg-big") | {"user-variables": {"delivery_key": f"1-{2**31}"}}
    answer = _post(postgres_hooks, "mailgun", _mailgun(event, _now(), token="d" * 50))
    assert answer.status_code == 200
    assert _events(postgres_hooks, delivery_id) == []
