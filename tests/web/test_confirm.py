"""Confirming takes a person pressing a button: mail scanners that open links confirm nothing,
a link works once and for its own sign-up only, and a stranger's sign-up of an unsubscribed
reader's address changes nothing of theirs until the reader confirms it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.sign_up import RESEND_AFTER
from pipeline.tokens import make_form_token
from subscribers import gdpr, store
from subscribers.schema import sign_ups, subscribers
from tests.web.conftest import (
    SECRET_KEY,
    Site,
    confirm_link,
    csrf_of,
    press_button,
    sign_up,
)

# What Microsoft's Safe Links and similar scanners send when a mail is delivered.
SCANNER = {"User-Agent": "Mozilla/5.0 (compatible; Safe Links link checker)"}


def _record(site: Site, address: str) -> dict[str, Any]:
    """Everything the store holds on the reader: the row, and its history."""
    with site.engine.connect() as connection:
        row = connection.execute(sa.select(subscribers).where(subscribers.c.email == address))
        record = dict(row.one()._mapping)
        record["history"] = store.history(connection, record["id"])
    return record


def _waiting_sign_ups(site: Site) -> int:
    with site.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(sign_ups)).scalar())


def _unsubscribed_reader(site: Site, address: str) -> store.Subscriber:
    reader = site.add_active(address, name="Ute", topics=["partner"], locale="en")
    with site.engine.begin() as connection:
        store.set_state(connection, reader.id, "unsubscribed", "unsubscribe link")
    return reader


def test_opening_the_link_changes_nothing_and_only_the_button_confirms(site: Site) -> None:
    sign_up(site, "gescannt@example.org")
    link = confirm_link(site, "gescannt@example.org")
    before = _record(site, "gescannt@example.org")
    with site.client() as scanner:
        for _ in range(3):
            opened = scanner.get(link, headers=SCANNER)
            assert opened.status_code == 200 and "<form" in opened.text
            head = scanner.head(link, headers=SCANNER)
            assert head.status_code == 200 and head.content == b""
    assert _record(site, "gescannt@example.org") == before
    assert before["state"] == "pending" and before["consent_at"] is None
    assert _waiting_sign_ups(site) == 1

    pressed_at = datetime.now(UTC)
    with site.client() as reader:
        confirmed = press_button(reader, link)
    assert confirmed.status_code == 200 and "Abonnement bestätigt" in confirmed.text
    after = _record(site, "gescannt@example.org")
    assert after["state"] == "active"
    # Consent is recorded when the button was pressed, not when the form was sent.
    assert after["consent_at"] >= pressed_at
    assert after["consent_source"] == "form" and after["consent_ip"] == "127.0.0.1"
    assert "confirmed by the button" in after["consent_detail"]
    assert sorted(after["topics"]) == ["netzwerk", "veranstaltungen"]
    assert _waiting_sign_ups(site) == 0


def test_the_button_confirms_once(site: Site) -> None:
    sign_up(site, "einmal@example.org")
    link = confirm_link(site, "einmal@example.org")
    with site.client() as client:
        page = client.get(link)
        first = client.post(link, data={"csrf": csrf_of(page.text)})
        again = client.post(link, data={"csrf": csrf_of(page.text)})
        reopened = client.get(link, params={"lang": "de"})
    assert first.status_code == 200 and "Abonnement bestätigt" in first.text
    assert "Bereits bestätigt" in again.text and "Bereits bestätigt" in reopened.text
    assert "<form" not in reopened.text
    confirmations = [
        line for line in _record(site, "einmal@example.org")["history"] if line["state"] == "active"
    ]
    assert len(confirmations) == 1


def test_a_post_without_the_pages_form_token_confirms_nothing(site: Site) -> None:
    sign_up(site, "fremd@example.org")
    link = confirm_link(site, "fremd@example.org")
    path = "/confirm/" + link.rsplit("/", 1)[1]
    with site.client() as client:
        bare = client.post(link, data={})
        # A form token of another page (the sign-up form's) does not do either.
        other = client.post(link, data={"csrf": make_form_token(SECRET_KEY, "/subscribe")})
        # Nor a confirmation page's token for another link.
        elsewhere = client.post(link, data={"csrf": make_form_token(SECRET_KEY, path + "x")})
    for answer in (bare, other, elsewhere):
        assert answer.status_code == 400 and "Nichts wurde bestätigt" in answer.text
    assert site.state("fremd@example.org") == "pending"


def test_a_used_link_does_not_confirm_a_later_sign_up(site: Site) -> None:
    sign_up(site, "wieder@example.org")
    first = confirm_link(site, "wieder@example.org")
    with site.client() as client:
        assert press_button(client, first).status_code == 200
        page = client.get(first).text
    assert "<form" not in page
    with site.engine.begin() as connection:
        found = store.find(connection, "wieder@example.org")
        assert found is not None
        store.set_state(connection, found.id, "unsubscribed", "unsubscribe link")
    sign_up(site, "wieder@example.org")
    later = confirm_link(site, "wieder@example.org", count=2)
    assert later != first
    # The old link with a valid form token of its own page: still nothing.
    path = "/confirm/" + first.rsplit("/", 1)[1]
    with site.client() as client:
        revived = client.post(first, data={"csrf": make_form_token(SECRET_KEY, path)})
    assert revived.status_code == 410 and "nicht mehr" in revived.text
    assert site.state("wieder@example.org") == "unsubscribed"
    with site.client() as client:
        assert press_button(client, later).status_code == 200
    assert site.state("wieder@example.org") == "active"


def test_the_link_of_a_replaced_sign_up_does_not_confirm_the_later_one(site: Site) -> None:
    sign_up(site, "zweimal@example.org", topics="netzwerk")
    first = confirm_link(site, "zweimal@example.org")
    later_time = datetime.now(UTC) + RESEND_AFTER + timedelta(seconds=1)
    site.app_context.clock = lambda: later_time  # type: ignore[attr-defined]
    sign_up(site, "zweimal@example.org", topics="partner")
    second = confirm_link(site, "zweimal@example.org", count=2)
    with site.client() as client:
        opened = client.get(first)
        assert opened.status_code == 410 and "<form" not in opened.text
        path = "/confirm/" + first.rsplit("/", 1)[1]
        pressed = client.post(first, data={"csrf": make_form_token(SECRET_KEY, path)})
        assert pressed.status_code == 410
        assert site.state("zweimal@example.org") == "pending"
        assert press_button(client, second).status_code == 200
    record = _record(site, "zweimal@example.org")
    assert record["state"] == "active" and record["topics"] == ["partner"]


def test_a_strangers_sign_up_leaves_an_unsubscribed_readers_record_alone(site: Site) -> None:
    _unsubscribed_reader(site, "ute@example.org")
    before = _record(site, "ute@example.org")
    status, _page = sign_up(
        site, "ute@example.org", name="Mallory", locale="de", topics="veranstaltungen"
    )
    assert status == 200
    link = confirm_link(site, "ute@example.org")
    with site.client() as scanner:
        assert scanner.get(link, headers=SCANNER).status_code == 200
        assert scanner.head(link, headers=SCANNER).status_code == 200
    after = _record(site, "ute@example.org")
    # Only the history says a sign-up waits; state, topics, name, language, consent stay.
    assert after.pop("history")[:-1] == before.pop("history")
    assert after == before
    assert before["state"] == "unsubscribed" and before["topics"] == ["partner"]
    assert before["consent_source"] == "admin"

    with site.client() as reader:
        assert press_button(reader, link).status_code == 200
    confirmed = _record(site, "ute@example.org")
    assert confirmed["state"] == "active" and confirmed["topics"] == ["veranstaltungen"]
    assert confirmed["consent_source"] == "form" and confirmed["locale"] == "de"


def test_a_waiting_sign_up_is_shown_and_erased_with_the_person(site: Site) -> None:
    _unsubscribed_reader(site, "weg@example.org")
    sign_up(site, "weg@example.org", name="Wer auch immer")
    with site.engine.begin() as connection:
        held = gdpr.export_person(connection, "weg@example.org")
        assert held is not None
        assert held["records"]["sign_ups"][0]["name"] == "Wer auch immer"
        assert gdpr.erase(connection, "weg@example.org")
    assert _waiting_sign_ups(site) == 0
    with site.client() as client:
        # The link of the erased person's sign-up: refused, and nothing comes back.
        assert client.get(confirm_link(site, "weg@example.org")).status_code == 410
    assert site.state("weg@example.org") is None


def test_the_name_a_stranger_typed_is_kept_only_as_the_reader_confirms_it(site: Site) -> None:
    """Anyone can sign up someone else's address and type any name; the reader sees it on
    the button's page and keeps, changes or deletes it. Until then it is stored nowhere."""
    spam = "Gewinn! Besuchen Sie https://evil.example/win"
    for address, kept in (("opfer@example.org", ""), ("lea@example.org", "Lea Berg")):
        status, _page = sign_up(site, address, name=spam)
        assert status == 200
        assert site.subscriber(address).name == ""  # not before the button
        link = confirm_link(site, address)
        with site.client() as client:
            page = client.get(link).text
            assert 'value="Gewinn! Besuchen Sie https://evil.example/win"' in page
            assert press_button(client, link, name=kept).status_code == 200
        confirmed = site.subscriber(address)
        assert (confirmed.state, confirmed.name) == ("active", kept)


def test_the_name_as_the_page_shows_it_is_kept_in_one_line(site: Site) -> None:
    sign_up(site, "anna@example.org", name="Anna")
    with site.client() as client:
        assert press_button(client, confirm_link(site, "anna@example.org")).status_code == 200
        sign_up(site, "ben@example.org", name="Ben")
        link = confirm_link(site, "ben@example.org")
        assert press_button(client, link, name="Ben\r\nBcc: x@evil.example\x00").status_code == 200
    assert site.subscriber("anna@example.org").name == "Anna"
    assert site.subscriber("ben@example.org").name == "Ben Bcc: x@evil.example"
