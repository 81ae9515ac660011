"""Properties of classify() over arbitrary and mangled input: it never raises, and only a
token whose signature verifies ever names a delivery."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.bounces.classify import INTERNAL_ERROR_NOTE, classify
from pipeline.tokens import DELIVERY_TOKEN_LENGTH
from tests.bounces.fixtures import BOUNCE_ADDRESS, bounce_for, fixture_names

KEY = "the-newsletter-secret-key"
DELIVERY = 40213
FIXTURES = {name: bounce_for(name, KEY, DELIVERY) for name in fixture_names()}
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _never_failed(notes: tuple[str, ...]) -> bool:
    return not any(INTERNAL_ERROR_NOTE in note for note in notes)


@st.composite
def mangled_fixture(draw: st.DrawFn) -> bytes:
    """A fixture (with the one valid token, for DELIVERY) cut, spliced and overwritten."""
    raw = bytearray(FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))])
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(raw)))
        match draw(st.sampled_from(["insert", "delete", "truncate", "duplicate"])):
            case "insert":
                raw[at:at] = draw(st.binary(max_size=40))
            case "delete":
                del raw[at : at + draw(st.integers(1, 200))]
            case "truncate":
                del raw[at:]
            case "duplicate":
                raw[at:at] = raw[max(0, at - 300) : at]
    return bytes(raw)


_header_lines = st.lists(
    st.tuples(
        st.sampled_from(
            ["From", "To", "Subject", "Content-Type", "Delivered-To", "X-Newsletter-Delivery",
             "Message-ID", "In-Reply-To", "Auto-Submitted", "Content-Transfer-Encoding"]
        ),
        st.binary(max_size=60),
    ),
    max_size=8,
)  # fmt: skip


@st.composite
def forged_tokens_everywhere(draw: st.DrawFn) -> bytes:
    """A message whose every token is unsigned: random base32 of the right length."""
    tokens = [
        draw(st.text(BASE32, min_size=DELIVERY_TOKEN_LENGTH, max_size=DELIVERY_TOKEN_LENGTH))
        for _ in range(3)
    ]
    content_type = draw(
        st.sampled_from(
            [
                b"multipart/report; report-type=delivery-status; boundary=b",
                b"multipart/report; report-type=feedback-report; boundary=b",
                b"multipart/mixed; boundary=b",
                b"text/plain; charset=utf-8",
            ]
        )
    )
    head = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in draw(_header_lines))
    subject = draw(
        st.sampled_from([b"failure notice", b"unsubscribe " + tokens[1].encode(), b"Vacation"])
    )
    return (
        b"From: MAILER-DAEMON@example.net\r\n"
        b"To: bounces+" + tokens[0].encode() + b"@example.org\r\n"
        b"Subject: " + subject + b"\r\n"
        b"Content-Type: " + content_type + b"\r\n" + head + b"\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"X-Newsletter-Delivery: " + tokens[2].encode() + b"\r\n"
        b"Message-ID: <issue7.d1." + tokens[2].encode() + b"@example.org>\r\n\r\n--b--\r\n"
        + draw(st.binary(max_size=200))
    )  # fmt: skip


@SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise_and_name_nobody(raw: bytes) -> None:
    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert _never_failed(verdict.notes), verdict.notes
    assert verdict.delivery_ids == ()


@SETTINGS
@given(mangled_fixture())
def test_mangled_bounces_never_raise_and_name_only_the_signed_delivery(raw: bytes) -> None:
    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert _never_failed(verdict.notes), verdict.notes
    assert set(verdict.delivery_ids) <= {DELIVERY}
    assert len(verdict.diagnostic) <= 200


@SETTINGS
@given(forged_tokens_everywhere())
def test_unsigned_tokens_name_nobody(raw: bytes) -> None:
    verdict = classify(raw, KEY, BOUNCE_ADDRESS)

    assert _never_failed(verdict.notes), verdict.notes
    assert verdict.delivery_ids == ()
    assert verdict.kind not in {"hard", "soft", "block", "complaint", "unsubscribe"}
