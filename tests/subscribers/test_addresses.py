"""One normal form per mailbox: the domain as its IDNA 2008 A-label, the local part as typed
but for A-Z; no Unicode folding joins two mailboxes, and bad input is a clear refusal."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import idna
import pytest
import sqlalchemy as sa
from email_validator import validate_email

from subscribers import import_csv, store, suppression
from subscribers.addresses import (
    InvalidAddress,
    legacy_spelling,
    listed,
    normalise_address,
)
from subscribers.schema import suppressions

CONSENT = store.Consent("admin", "tests", datetime(2026, 1, 5, tzinfo=UTC))


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("anna@presse-netzwerk.de", "anna@presse-netzwerk.de"),
        ("ANNA@Presse-Netzwerk.DE", "anna@presse-netzwerk.de"),
        ("  anna@presse-netzwerk.de\t", "anna@presse-netzwerk.de"),
        # ß is a letter of its own in IDNA 2008: a different domain from "presse".
        ("anna@preße-netzwerk.de", "anna@xn--pree-netzwerk-ddb.de"),
        ("kai.mueller@bücherei-quartier.de", "kai.mueller@xn--bcherei-quartier-jzb.de"),
        # An A-label in capitals is the same domain, lower-cased.
        ("kai.mueller@XN--BCHEREI-QUARTIER-JZB.DE", "kai.mueller@xn--bcherei-quartier-jzb.de"),
        ("kai.mueller@BÜCHEREI-Quartier.de", "kai.mueller@xn--bcherei-quartier-jzb.de"),
        # Greek final sigma stays itself (non-transitional); a capital sigma maps to σ.
        ("a@βόλος.gr", "a@xn--nxasmm1c.gr"),
        ("a@ΒΌΛΟΣ.gr", "a@xn--nxasmq6b.gr"),
        # Dotless ı is its own letter; İ maps to i and a combining dot, not to plain i.
        ("a@kıra.de", "a@xn--kra-jua.de"),
        ("a@İstanbul.de", "a@xn--istanbul-o0e.de"),
        # Fullwidth digits and the ideographic full stop are the ASCII ones in a domain.
        ("a@presse-netzwerk１２.de", "a@presse-netzwerk12.de"),
        ("a@presse-netzwerk。de", "a@presse-netzwerk.de"),
        # In the local part nothing but A-Z folds: ß, ς, ı, İ, Ü and fullwidth digits stay.
        ("Straße@example.org", "straße@example.org"),
        ("ΟΔΟΣ@example.org", "ΟΔΟΣ@example.org"),
        ("KIRAı@example.org", "kiraı@example.org"),
        ("İpek@example.org", "İpek@example.org"),
        ("MÜLLER@example.org", "mÜller@example.org"),
        ("nr１２@example.org", "nr１２@example.org"),
    ],
)
def test_the_normal_form(typed: str, normal: str) -> None:
    assert normalise_address(typed) == normal


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("anna@presse-netzwerk.de", "anna@preße-netzwerk.de"),
        ("a@βόλος.gr", "a@βόλοσ.gr"),
        ("a@kira.de", "a@kıra.de"),
        ("a@istanbul.de", "a@İstanbul.de"),
        ("strasse@example.org", "straße@example.org"),
        ("kira@example.org", "kıra@example.org"),
        ("οδος@example.org", "οδοσ@example.org"),
    ],
)
def test_look_alikes_are_different_mailboxes(one: str, other: str) -> None:
    assert normalise_address(one) != normalise_address(other)
    assert listed(other, [one]) is None


def test_the_domain_is_email_validators_ascii_domain() -> None:
    """The same IDNA 2008 A-label as email-validator's, not Python's IDNA 2003 codec's."""
    for typed in ("anna@preße-netzwerk.de", "a@βόλος.gr", "a@kıra.de", "kai@bücherei.de"):
        domain = normalise_address(typed).rpartition("@")[2]
        assert domain == validate_email(typed, check_deliverability=False).ascii_domain
    for typed in ("anna@preße-netzwerk.de", "a@βόλος.gr"):
        assert (
            normalise_address(typed).rpartition("@")[2]
            != typed.split("@")[1].encode("idna").decode()
        )


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "anna",
        "@presse-netzwerk.de",
        "anna@",
        "anna＠presse-netzwerk.de",  # a fullwidth at-sign is no at-sign
        "anna@presse-netzwerk.de.",  # a trailing dot is not allowed in an address
        "anna@xn--zzzz.de",  # not a valid A-label
        "anna@xn--pree-netzwerk-ddb-.de",
        "anna@presse-netzwerk.de\r\nBcc: all@example.org",
        "an\nna@presse-netzwerk.de",
        "anna@presse-netzwerk.de\n",
        "an\x00na@presse-netzwerk.de",
        "an\x7fna@presse-netzwerk.de",
        "a@b@presse-netzwerk.de",
        "a" * 250 + "@presse-netzwerk.de",
    ],
)
def test_what_is_no_address_is_refused_with_a_reason(typed: str) -> None:
    with pytest.raises(InvalidAddress) as refused:
        normalise_address(typed)
    assert str(refused.value)


def test_an_address_over_254_octets_in_the_form_sent_is_refused() -> None:
    """254 octets in UTF-8 are not enough: the A-label form is what is sent."""
    typed = "ü" * 27 + "@" + ".".join("a" * 40 + f"ü{n}" for n in range(4)) + ".de"
    assert len(typed.encode()) <= 254
    with pytest.raises(InvalidAddress, match="too long"):
        normalise_address(typed)


def test_listed_gives_the_entry_as_written() -> None:
    editors = ["not an address", "Anna@Presse-Netzwerk.de", "kai@bücherei-quartier.de"]
    assert listed("anna@presse-netzwerk.de", editors) == "Anna@Presse-Netzwerk.de"
    assert listed("kai@xn--bcherei-quartier-jzb.de", editors) == "kai@bücherei-quartier.de"
    assert listed("anna@preße-netzwerk.de", editors) is None


def test_the_legacy_spelling_is_what_earlier_releases_stored() -> None:
    for typed in ("Kai.Mueller@Bücherei-Quartier.de", "MÜLLER@straße.de", "a@ΒΌΛΟΣ.gr"):
        earlier = validate_email(typed, check_deliverability=False).normalized.lower()
        assert legacy_spelling(normalise_address(typed)) == earlier
        assert idna.decode(normalise_address(typed).rpartition("@")[2]) in earlier


def _old_hash(connection: sa.Connection, earlier_spelling: str) -> str:
    salt = suppression.salt(connection).encode()
    return hmac.new(salt, earlier_spelling.encode(), hashlib.sha256).hexdigest()


def test_a_look_alike_is_a_subscriber_of_its_own(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        anna = store.add(connection, email="anna@presse-netzwerk.de", consent=CONSENT)
        assert store.find(connection, "anna@preße-netzwerk.de") is None
        other = store.add(connection, email="anna@preße-netzwerk.de", consent=CONSENT)
        assert other.id != anna.id and other.email == "anna@xn--pree-netzwerk-ddb.de"
        suppression.suppress(connection, other.email, "hard_bounce")
        assert suppression.reason_for(connection, anna.email) is None


def test_a_csv_import_of_a_look_alike_is_a_row_of_its_own(
    engine: sa.Engine, tmp_path: Path
) -> None:
    sheet = tmp_path / "look-alike.csv"
    sheet.write_text(
        "email,name\n"
        "anna@presse-netzwerk.de,Anna\n"
        "anna@preße-netzwerk.de,Nicht Anna\n"
        "ANNA@PRESSE-NETZWERK.DE,Doppelt\n"
        "anna@presse-netzwerk.de\u2028,Zeilenumbruch\n"
        "anna＠presse-netzwerk.de,Breites At\n",
        encoding="utf-8",
    )
    report = import_csv(engine, sheet, topic_keys=[], consent_given_by="tests", apply=True)
    assert [row.email for row in report.added] == [
        "anna@presse-netzwerk.de",
        "anna@xn--pree-netzwerk-ddb.de",
    ]
    assert [(p.row, p.column) for p in report.problems] == [
        (4, "email"),
        (5, "email"),
        (6, "email"),
    ]
    assert "repeats" in str(report.problems[0])


def test_an_entry_hashed_by_an_earlier_release_still_blocks(engine: sa.Engine) -> None:
    """An erased person's hash was made of the old spelling and cannot be made anew."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(suppressions).values(
                email_hash=_old_hash(connection, "erased.person@straße-beispiel.de"),
                reason="erased",
                at=datetime.now(UTC),
            )
        )
    with engine.begin() as connection:
        for typed in (
            "erased.person@straße-beispiel.de",
            "Erased.Person@XN--STRAE-BEISPIEL-3FB.DE",
        ):
            assert suppression.reason_for(connection, normalise_address(typed)) == "erased"
        assert suppression.reason_for(connection, "erased.person@strasse-beispiel.de") is None
        # Listing it again keeps the one entry; lifting it removes it, whichever hash it has.
        suppression.suppress(
            connection, normalise_address("erased.person@straße-beispiel.de"), "admin"
        )
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(suppressions)).scalar() == 1
        )
        suppression.lift(connection, normalise_address("erased.person@straße-beispiel.de"))
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(suppressions)).scalar() == 0
        )


def test_an_old_entry_stays_out_of_the_audience_when_its_address_comes_back(
    engine: sa.Engine,
) -> None:
    """The audience compares hashes in the database: the old entry takes the new hash."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(suppressions).values(
                email_hash=_old_hash(connection, "kai@bücherei-quartier.de"),
                reason="hard_bounce",
                at=datetime.now(UTC),
            )
        )
        kai = store.add(
            connection, email="kai@bücherei-quartier.de", state="active", consent=CONSENT
        )
        assert suppression.reason_for(connection, kai.email) == "hard_bounce"
        audience = set(connection.execute(store.active_ids()).scalars())
    assert kai.id not in audience
