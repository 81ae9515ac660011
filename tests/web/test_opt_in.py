"""The double opt-in as a reader lives it: form, confirmation mail, link, active."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from subscribers import store
from subscribers.schema import subscribers
from tests.web.conftest import Site, confirm_link, press_button, sign_up


def test_reader_signs_up_confirms_and_is_active(site: Site) -> None:
    status, page = sign_up(site, "Anna.Neu@Example.org")
    assert status == 200 and "Bitte sehen Sie in Ihr Postfach" in page
    assert site.state("anna.neu@example.org") == "pending"
    mail = site.wait_for_mail("anna.neu@example.org")
    assert mail["Subject"] == "Bitte bestätigen Sie Ihr Abonnement bei Gemeinsam für das Quartier"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Guten Tag,") and "Anna" not in text, "a neutral greeting"
    link = confirm_link(site, "anna.neu@example.org")
    with site.client() as client:
        confirmed = press_button(client, link)
        again = client.get(link)
    assert confirmed.status_code == 200 and "Abonnement bestätigt" in confirmed.text
    assert site.state("anna.neu@example.org") == "active"
    assert again.status_code == 200 and "bereits verwendet" in again.text
    with site.engine.connect() as connection:
        row = connection.execute(
            sa.select(subscribers).where(subscribers.c.email == "anna.neu@example.org")
        ).one()
    assert row.consent_source == "form" and row.consent_ip == "127.0.0.1"
    assert row.consent_text_version == "1"
    assert sorted(row.topics) == ["netzwerk", "veranstaltungen"]


def test_answer_does_not_tell_whether_an_address_is_known(site: Site) -> None:
    site.add_active("bekannt@example.org")
    new_status, new_page = sign_up(site, "neu@example.org")
    known_status, known_page = sign_up(site, "bekannt@example.org")
    assert (new_status, new_page) == (known_status, known_page)
    site.wait_for_mail("neu@example.org")
    assert site.mails_to("bekannt@example.org") == []


def test_honeypot_filled_by_a_bot_creates_nothing(site: Site) -> None:
    status, page = sign_up(site, "bot@example.org", website="http://spam.example")
    assert status == 200 and "Postfach" in page
    assert site.state("bot@example.org") is None


def test_sign_ups_beyond_the_rate_limit_are_refused(site: Site) -> None:
    for number in range(3):
        assert sign_up(site, f"leser{number}@example.org")[0] == 200
    status, page = sign_up(site, "leser9@example.org")
    assert status == 429 and "Zu viele Anmeldungen" in page
    assert site.state("leser9@example.org") is None


def test_form_without_its_csrf_token_changes_nothing(site: Site) -> None:
    status, page = sign_up(site, "fremd@example.org", csrf="forged")
    assert status == 400 and "abgelaufen" in page
    assert site.state("fremd@example.org") is None


def test_invalid_address_is_explained_on_the_form(site: Site) -> None:
    status, page = sign_up(site, "nicht-gültig")
    assert status == 400 and "gültige E-Mail-Adresse" in page


def test_form_is_english_when_asked(site: Site) -> None:
    with site.client() as client:
        page = client.get("/subscribe", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert "Email address" in page and 'lang="en"' in page
    assert "Content-Security-Policy" not in page


def test_unsubscribed_reader_may_sign_up_again_through_the_confirmation(site: Site) -> None:
    subscriber = site.add_active("zurueck@example.org")
    with site.engine.begin() as connection:
        store.set_state(connection, subscriber.id, "unsubscribed", "test")
    sign_up(site, "zurueck@example.org")
    # Until the button is pressed, the reader stays unsubscribed (see test_confirm.py).
    assert site.state("zurueck@example.org") == "unsubscribed"
    with site.client() as client:
        assert press_button(client, confirm_link(site, "zurueck@example.org")).status_code == 200
    assert site.state("zurueck@example.org") == "active"


def test_values_sent_back_into_the_form_are_escaped(site: Site) -> None:
    status, page = sign_up(site, '"><script>alert(1)</script>', name="<b>Anna</b>")
    assert status == 400
    assert "<script>alert(1)</script>" not in page and "&lt;b&gt;Anna&lt;/b&gt;" in page


def test_repeated_sign_ups_of_a_pending_address_send_one_mail(site: Site) -> None:
    sign_up(site, "wartet@example.org")
    sign_up(site, "wartet@example.org")
    site.wait_for_mail("wartet@example.org")
    with pytest.raises(AssertionError, match="no mail #2"):
        site.wait_for_mail("wartet@example.org", count=2, timeout_s=1.5)


def test_a_look_alike_sign_up_is_a_sign_up_of_its_own(site: Site) -> None:
    """`preße-netzwerk.de` is another domain: its sign-up never touches Anna's record."""
    anna = site.add_active("anna@presse-netzwerk.de", topics=["partner"])
    status, _page = sign_up(site, "anna@preße-netzwerk.de")
    assert status == 200
    look_alike = "anna@xn--pree-netzwerk-ddb.de"
    assert site.state(look_alike) == "pending"
    mail = site.wait_for_mail(look_alike)
    assert "/confirm/" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert site.mails_to("anna@presse-netzwerk.de") == []
    with site.engine.connect() as connection:
        assert store.find(connection, "anna@presse-netzwerk.de") == anna
        other = store.find(connection, "anna@preße-netzwerk.de")
    assert other is not None and other.id != anna.id
