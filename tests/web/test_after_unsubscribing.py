"""No dead ends after unsubscribing: a way back (a new double opt-in), a link opened again
says so instead of asking again, and the preferences page names its address."""

from __future__ import annotations

import html
import re

from pipeline.tokens import make_token
from tests.web.conftest import SECRET_KEY, Site, confirm_link, csrf_of, press_button


def links(page: str) -> dict[str, str]:
    """Each link's text and its target, as a reader sees and follows it."""
    return {
        " ".join(re.sub(r"<[^>]+>", "", text).split()): html.unescape(href)
        for href, text in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', page, re.S)
    }


def test_unsubscribed_by_mistake_leads_back_through_double_opt_in(site: Site) -> None:
    reader = site.add_active("anna@example.org", locale="de", topics=["netzwerk"])
    link = f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', reader.id)}"
    with site.client() as client:
        page = client.get(link)
        assert page.text.count("<button") == 1
        done = client.post(link, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "Sie sind abgemeldet" in done.text
        back = links(done.text)["Versehentlich? Wieder anmelden"]
        assert back == "/subscribe?email=anna%40example.org&lang=de"
        form = client.get(back)
        assert form.status_code == 200
        assert 'id="email" name="email" required autocomplete="email" value="anna@example.org"' in (
            form.text
        )
        # Consent is the reader's to give again: the box is not ticked for them.
        consent = re.search(r'<input type="checkbox" id="consent"[^>]*>', form.text)
        assert consent and "checked" not in consent.group(0)
        data = {
            "csrf": csrf_of(form.text),
            "email": "anna@example.org",
            "locale": "de",
            "topics": ["netzwerk"],
            "consent": "yes",
            "website": "",
        }
        thanks = client.post("/subscribe", data=data, follow_redirects=True)
        assert "Bitte sehen Sie in Ihr Postfach" in thanks.text
    # Still double opt-in: nothing is sent until the mailed link's button is pressed.
    assert site.state("anna@example.org") == "unsubscribed"
    with site.client() as client:
        assert press_button(client, confirm_link(site, "anna@example.org")).status_code == 200
    assert site.state("anna@example.org") == "active"


def test_an_unsubscribe_link_opened_again_says_already_unsubscribed(site: Site) -> None:
    reader = site.add_active("ben@example.org", locale="de")
    link = f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', reader.id)}"
    with site.client() as client:
        client.post(link, data={"List-Unsubscribe": "One-Click"})
        again = client.get(link)
        second_post = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert "<h1>Sie sind bereits abgemeldet</h1>" in again.text
    assert "<form" not in again.text and "<button" not in again.text
    assert "Versehentlich? Wieder anmelden" in links(again.text)
    # A mail client's one-click POST again changes nothing and still answers 200.
    assert second_post.status_code == 200
    assert site.state("ben@example.org") == "unsubscribed"


def test_the_preferences_page_names_the_address_it_manages(site: Site) -> None:
    reader = site.add_active("carla@example.org", locale="de")
    link = f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}"
    with site.client() as client:
        page = client.get(link).text
        english = client.get(link, params={"lang": "en"}).text
    assert "<p>Einstellungen für carla@example.org</p>" in page
    assert "<p>Settings for carla@example.org</p>" in english
