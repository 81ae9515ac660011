"""classify() on real-world bounce shapes: kind, status, and whose delivery it names."""

from __future__ import annotations

import pytest

from pipeline.bounces.classify import INTERNAL_ERROR_NOTE, classify
from pipeline.tokens import make_delivery_token
from tests.bounces.expected import EXPECTED, NAMES_NOBODY, STATUS
from tests.bounces.fixtures import BOUNCE_ADDRESS, bounce_for, fixture_names, load_bounce

KEY = "the-newsletter-secret-key"
OLD_KEY = "the-key-before-rotation"
DELIVERY = 40213

CONTRACT_NAMES = {
    "rfc3464-hard", "rfc3464-soft", "postfix-hard", "exim-hard", "exchange-ndr",
    "gmail-hard", "gmx-hard", "webde-hard", "t-online-de", "yahoo-arf", "ooo-de", "ooo-en",
    "forged-token", "no-token-body-address", "block-571", "mailto-unsubscribe",
    "reader-reply",
}  # fmt: skip


def test_every_fixture_has_an_expected_kind_and_the_contract_names_are_there() -> None:
    assert set(fixture_names()) == set(EXPECTED) == set(STATUS)
    assert set(EXPECTED) >= CONTRACT_NAMES


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_kind_status_and_delivery(name: str) -> None:
    verdict = classify(bounce_for(name, KEY, DELIVERY), KEY, BOUNCE_ADDRESS)

    assert verdict.kind == EXPECTED[name], verdict
    assert verdict.status == STATUS[name]
    if name in NAMES_NOBODY:
        assert verdict.delivery_ids == ()
    else:
        assert verdict.delivery_ids == (DELIVERY,)
    assert not any(INTERNAL_ERROR_NOTE in note for note in verdict.notes)


@pytest.mark.parametrize("name", fixture_names())
def test_a_token_of_another_key_names_nobody(name: str) -> None:
    verdict = classify(bounce_for(name, "somebody-else's-key", DELIVERY), KEY, BOUNCE_ADDRESS)

    assert verdict.delivery_ids == ()
    if EXPECTED[name] in {"hard", "soft", "block", "complaint", "unsubscribe"}:
        assert verdict.kind == "unrecognised"


def test_forged_token_is_noted_and_ignored() -> None:
    verdict = classify(load_bounce("forged-token"), KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert verdict.delivery_ids == ()
    assert any("signature does not match" in note for note in verdict.notes)
    assert any("names nobody" in note for note in verdict.notes)
    assert verdict.status == "5.1.1"  # what it said is kept for the operator


def test_an_address_in_the_body_names_nobody() -> None:
    verdict = classify(load_bounce("no-token-body-address"), KEY, BOUNCE_ADDRESS)

    assert verdict.delivery_ids == ()
    assert verdict.kind == "unrecognised"
    assert "maria.fischer@example.net" in verdict.recipients  # shown, never acted on


@pytest.mark.parametrize(
    ("configured", "local", "domain", "upper_token"),
    [
        ("Newsletter-Bounces@Example.org", "newsletter-bounces", "example.org", False),
        ("newsletter-bounces@example.org", "NEWSLETTER-BOUNCES", "EXAMPLE.ORG", True),
    ],
    ids=["relay-lower-cased", "relay-upper-cased"],
)
def test_verp_local_part_whose_case_the_relay_changed(
    configured: str, local: str, domain: str, upper_token: bool
) -> None:
    # qmail-hard: the VERP address is the only place that names the delivery.
    token = make_delivery_token(KEY, DELIVERY)
    raw = load_bounce(
        "qmail-hard",
        token.upper() if upper_token else token,
        delivery_id=DELIVERY,
        bounce_local=local,
        bounce_domain=domain,
    )

    verdict = classify(raw, KEY, configured)

    assert verdict.kind == "hard"
    assert verdict.delivery_ids == (DELIVERY,)


def test_verp_address_of_another_bounce_address_is_not_ours() -> None:
    raw = bounce_for("qmail-hard", KEY, DELIVERY, bounce_local="other")

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert verdict.delivery_ids == ()


def test_token_signed_with_the_previous_key_still_names_its_delivery() -> None:
    raw = bounce_for("rfc3464-hard", OLD_KEY, DELIVERY)

    verdict = classify(raw, (OLD_KEY, KEY), BOUNCE_ADDRESS)

    assert verdict.delivery_ids == (DELIVERY,)


def test_message_id_whose_delivery_number_disagrees_with_its_token_is_ignored() -> None:
    token = make_delivery_token(KEY, DELIVERY)
    raw = (
        b"From: Jana Klein <j.klein@example.net>\r\nTo: bounces@example.org\r\n"
        b"Subject: Re: Neues\r\nIn-Reply-To: <issue7.d99." + token.encode() + b"@example.org>\r\n"
        b"\r\nDanke!\r\n"
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "reply"
    assert verdict.delivery_ids == ()
    assert any("says d99" in note for note in verdict.notes)


@pytest.mark.parametrize(
    "subject",
    [
        "unsubscribe {token}",
        "Re: UNSUBSCRIBE {TOKEN}",
        "AW: Unsubscribe {token}  ",
        "=?utf-8?q?unsubscribe_{token}?=",
    ],
)
def test_mailto_unsubscribe_subjects(subject: str) -> None:
    token = make_delivery_token(KEY, DELIVERY)
    raw = load_bounce("mailto-unsubscribe", token).replace(
        b"Subject: unsubscribe " + token.encode(),
        b"Subject: " + subject.format(token=token, TOKEN=token.upper()).encode(),
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unsubscribe"
    assert verdict.delivery_ids == (DELIVERY,)


def test_unsubscribe_subject_sent_elsewhere_is_not_an_unsubscribe() -> None:
    raw = bounce_for("mailto-unsubscribe", KEY, DELIVERY, bounce_local="info")

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "reply"


def test_unsubscribe_with_a_forged_token_unsubscribes_nobody() -> None:
    raw = bounce_for("mailto-unsubscribe", "somebody-else's-key", DELIVERY)

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert verdict.delivery_ids == ()
    assert any("signature does not match" in note for note in verdict.notes)


def _dsn(status: str, diagnostic: str, action: str = "failed") -> bytes:
    raw = bounce_for("rfc3464-hard", KEY, DELIVERY)
    return (
        raw.replace(b"Action: failed", b"Action: " + action.encode())
        .replace(b"Status: 5.1.1", b"Status: " + status.encode())
        .replace(
            b"Diagnostic-Code: smtp; 550 5.1.1 <anna.schmidt@example.net>: Recipient address\r\n"
            b"    rejected: User unknown in virtual mailbox table",
            b"Diagnostic-Code: smtp; " + diagnostic.encode(),
        )
    )


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind", "code"),
    [
        ("5.1.1", "550 5.1.1 No such user", "hard", "5.1.1"),
        ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", "hard", "5.1.10"),
        (
            "5.2.1",
            "550 5.2.1 The email account that you tried to reach is disabled",
            "hard",
            "5.2.1",
        ),
        ("5.2.2", "552 5.2.2 The recipient's inbox is out of storage space", "soft", "5.2.2"),
        ("4.4.7", "451 4.4.7 Message delayed", "soft", "4.4.7"),
        ("5.7.1", "550 5.7.1 Message rejected due to content restrictions", "block", "5.7.1"),
        ("5.7.26", "550 5.7.26 Unauthenticated email is not accepted (DMARC)", "block", "5.7.26"),
        ("5.4.1", "550 5.4.1 Recipient address rejected: Access denied", "block", "5.4.1"),
        ("5.3.4", "552 5.3.4 Message size exceeds fixed limit", "block", "5.3.4"),
        ("5.0.0", "550 Message rejected as spam by Content Filtering", "block", "5.0.0"),
        ("5.0.0", "550 Your IP has poor reputation", "block", "5.0.0"),
        ("5.0.0", "554 Sending address is on our blacklist", "block", "5.0.0"),
        ("5.0.0", "550 5.1.1 User unknown", "hard", "5.1.1"),
        ("5.0.0", "550 Postfach voll", "soft", "5.0.0"),
        ("5.0.0", "550 Benutzer unbekannt", "hard", "5.0.0"),
    ],
)
def test_dsn_status_decides(status: str, diagnostic: str, kind: str, code: str) -> None:
    verdict = classify(_dsn(status, diagnostic), KEY, BOUNCE_ADDRESS)

    assert (verdict.kind, verdict.status) == (kind, code)
    assert verdict.diagnostic == diagnostic
    assert verdict.delivery_ids == (DELIVERY,)


def test_a_delayed_dsn_is_soft_whatever_its_code() -> None:
    verdict = classify(_dsn("5.0.0", "no answer yet", action="delayed"), KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "soft"


def test_a_success_dsn_is_no_bounce() -> None:
    verdict = classify(_dsn("2.0.0", "250 OK", action="delivered"), KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert any("without a failure" in note for note in verdict.notes)


def test_a_dmarc_failure_report_is_not_a_complaint() -> None:
    raw = bounce_for("yahoo-arf", KEY, DELIVERY).replace(
        b"Feedback-Type: abuse", b"Feedback-Type: auth-failure"
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert any("auth-failure" in note for note in verdict.notes)


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (b"Subject: Abwesenheitsnotiz", "auto_reply"),
        (b"Subject: Out of Office: Neues aus dem Stadtteil", "auto_reply"),
        (b"Subject: Vacation", "auto_reply"),
        (b"Subject: Hallo\r\nAuto-Submitted: auto-replied", "auto_reply"),
        (b"Subject: Hallo\r\nX-Autoreply: yes", "auto_reply"),
        (b"Subject: Hallo\r\nX-Autorespond: yes", "auto_reply"),
        (b"Subject: Hallo\r\nPrecedence: auto_reply", "auto_reply"),
        (b"Subject: Hallo\r\nAuto-Submitted: no", "reply"),
        (b"Subject: Re: Vacation programme for the children?", "reply"),
        (b"Subject: AW: Abwesenheitsnotiz im Kalender", "reply"),
    ],
)
def test_auto_reply_signals(header: bytes, kind: str) -> None:
    raw = bounce_for("reader-reply", KEY, DELIVERY).replace(
        b"Subject: Re: Neues aus dem Stadtteil", header
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == kind
    assert verdict.delivery_ids == (DELIVERY,)


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (b"", "empty"),
        (b"   \r\n\r\n", "empty"),
        (b"\x00\xff\xfe garbage without a header", "no header"),
    ],
)
def test_what_is_not_a_mail(raw: bytes, note: str) -> None:
    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert any(note in n for n in verdict.notes)


def test_eight_bit_headers_and_a_lying_charset() -> None:
    raw = (
        bounce_for("t-online-de", KEY, DELIVERY)
        .replace(
            b"Subject: Mail delivery failed: returning message to sender",
            b"Subject: Unzustellbar: \xe4\xf6\xfc =?x-unknown?q?=E4?= \xff",
        )
        .replace(b"charset=ISO-8859-1", b"charset=utf-8")
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "hard"
    assert verdict.delivery_ids == (DELIVERY,)
    assert "Teilnehmer existiert nicht" in verdict.diagnostic


def test_a_huge_returned_original_is_read_only_in_part() -> None:
    raw = bounce_for("rfc3464-hard", KEY, DELIVERY)
    huge = raw.replace(b"Liebe Nachbarinnen und Nachbarn,", b"x" * 20_000_000)

    verdict = classify(huge, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "hard"
    assert verdict.delivery_ids == (DELIVERY,)
    assert any("read only the first" in note for note in verdict.notes)


def test_without_a_bounce_address_the_verp_tag_still_needs_its_signature() -> None:
    raw = bounce_for("qmail-hard", KEY, DELIVERY)

    assert classify(raw, KEY, None).delivery_ids == (DELIVERY,)
    assert classify(raw, "another-key", None).delivery_ids == ()


def test_a_complaint_whose_original_was_cut_away_names_the_delivery_by_its_envelope() -> None:
    raw = bounce_for("yahoo-arf", KEY, DELIVERY)
    raw = raw[: raw.index(b"Content-Type: message/rfc822")] + b"\r\n--_----------=F0--\r\n"

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "complaint"
    assert verdict.delivery_ids == (DELIVERY,)


def _t_online(reason: bytes, intro: bytes | None = None) -> bytes:
    raw = bounce_for("t-online-de", KEY, DELIVERY)
    raw = raw.replace(b"   unknown user / Teilnehmer existiert nicht", b"   " + reason)
    if intro is not None:
        raw = raw.replace(
            b"Die Nachricht konnte nicht an alle Empf\xe4nger zugestellt werden.", intro
        )
    return raw


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (b"Die E-Mail-Adresse existiert nicht", "hard"),
        (b"Benutzer unbekannt", "hard"),
        (b"Postfach voll", "soft"),
        (b"Das Postfach des Empf\xe4ngers ist \xfcberf\xfcllt", "soft"),
        (b"Die Nachricht wurde als Spam eingestuft und abgelehnt", "block"),
        (b"552 Quota exceeded (mailbox for user is full)", "soft"),
        (b"Der Empf\xe4ngername wurde nicht erkannt.", "hard"),
        (b"petra.mueller wurde unter t-online.de nicht gefunden.", "hard"),
    ],
)
def test_german_server_texts(reason: bytes, kind: str) -> None:
    verdict = classify(_t_online(reason), KEY, BOUNCE_ADDRESS)

    assert verdict.kind == kind
    assert verdict.delivery_ids == (DELIVERY,)
    assert reason.decode("latin-1") in verdict.diagnostic


def test_undeliverable_without_a_reason_is_soft_and_says_why() -> None:
    raw = _t_online(b"", intro=b"Ihre Nachricht ist unzustellbar.").replace(
        b"The message could not be delivered to all recipients.\r\n", b""
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert (verdict.kind, verdict.detector) == ("soft", "text:de")
    assert any("without a code or a reason" in note for note in verdict.notes)


def test_a_mail_system_message_of_no_known_shape_is_unrecognised() -> None:
    raw = _t_online(b"", intro=b"Bitte beachten Sie unsere neuen Servicezeiten.").replace(
        b"The message could not be delivered to all recipients.\r\n", b""
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert any("no shape we know" in note for note in verdict.notes)


def test_a_read_receipt_is_an_automatic_reply() -> None:
    raw = bounce_for("reader-reply", KEY, DELIVERY).replace(
        b"Content-Type: text/plain; charset=UTF-8; format=flowed",
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=x",
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "auto_reply"


DETECTORS = {
    "rfc3464-hard": "rfc3464",
    "gmail-hard": "rfc3464",
    "exchange-online": "rfc3464",
    "postfix-hard": "flufl.bounce",
    "exim-hard": "flufl.bounce",
    "qmail-hard": "flufl.bounce",
    "exchange-ndr": "flufl.bounce",
    "gmx-hard": "flufl.bounce",
    "webde-hard": "flufl.bounce",
    "t-online-de": "text:de",
    "yahoo-arf": "arf",
    "microsoft-jmrp": "jmrp",
    "ooo-de": "rfc3834",
    "mailto-unsubscribe": "mailto",
}


@pytest.mark.parametrize(("name", "detector"), sorted(DETECTORS.items()))
def test_which_detector_recognised_it(name: str, detector: str) -> None:
    verdict = classify(bounce_for(name, KEY, DELIVERY), KEY, BOUNCE_ADDRESS)

    assert verdict.detector == detector


@pytest.mark.parametrize("depth", [250, 3000])
def test_multiparts_nested_deep_are_refused_with_a_note(depth: int) -> None:
    raw = b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\nSubject: failure\r\n"
    for level in range(depth):
        raw += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    raw += b"Content-Type: text/plain\r\n\r\n550 5.1.1 user unknown\r\n"
    raw += b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)))

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "unrecognised"
    assert verdict.notes == ("more than 200 MIME parts",)


def test_a_message_with_many_parts_under_the_limit_is_read() -> None:
    raw = bounce_for("rfc3464-hard", KEY, DELIVERY)
    extra = b"".join(
        b"--260A0D29197.1765095252/mail.example.org\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        for _ in range(150)
    )
    raw = raw.replace(
        b"--260A0D29197.1765095252/mail.example.org--",
        extra + b"--260A0D29197.1765095252/mail.example.org--",
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert verdict.kind == "hard"
    assert verdict.delivery_ids == (DELIVERY,)


def test_the_worst_failure_of_several_recipients_decides() -> None:
    raw = bounce_for("rfc3464-soft", KEY, DELIVERY).replace(
        b"Will-Retry-Until: Sat, 12 Dec 2026 09:14:10 +0100 (CET)\r\n",
        b"Will-Retry-Until: Sat, 12 Dec 2026 09:14:10 +0100 (CET)\r\n\r\n"
        b"Final-Recipient: rfc822; k.weber@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n",
    )

    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert (verdict.kind, verdict.status) == ("hard", "5.1.1")
    assert verdict.recipients == ("klaus.weber@example.com", "k.weber@example.com")
