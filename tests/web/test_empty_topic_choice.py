"""Unticking every topic is not silently "everything": the reader is asked whether to
unsubscribe or to receive all topics (two buttons, no script), and nothing is saved first."""

from __future__ import annotations

import html
import re

import httpx

from pipeline.tokens import make_token
from tests.web.conftest import SECRET_KEY, Site, csrf_of


def forms_of(page: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Each form by its button's text: where it posts and the hidden fields it sends."""
    found = {}
    form = r'<form method="post" action="([^"]+)">(.*?)</form>'
    for action, body in re.findall(form, page, re.S):
        button = re.search(r'<button type="submit">(.*?)</button>', body)
        assert button, body
        fields = {
            name: html.unescape(value)
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body
            )
        }
        found[button.group(1)] = (html.unescape(action), fields)
    return found


def save_with_no_topic(client: httpx.Client, link: str) -> httpx.Response:
    page = client.get(link)
    return client.post(link, data={"csrf": csrf_of(page.text), "locale": "de"})


def test_saving_no_topic_asks_and_saves_nothing(site: Site) -> None:
    reader = site.add_active("ohne@example.org", locale="de", topics=["netzwerk"])
    link = f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}"
    with site.client() as client:
        asked = save_with_no_topic(client, link)
    assert asked.status_code == 200
    assert "<h1>Kein Thema gewählt</h1>" in asked.text
    assert "<script" not in asked.text
    assert set(forms_of(asked.text)) == {"Abbestellen", "Alle Themen erhalten"}
    assert "Zurück zu den Themen" in asked.text
    assert site.subscriber("ohne@example.org").topics == ("netzwerk",)
    assert site.state("ohne@example.org") == "active"


def test_the_unsubscribe_button_unsubscribes(site: Site) -> None:
    reader = site.add_active("geht@example.org", locale="de", topics=["netzwerk"])
    link = f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}"
    with site.client() as client:
        action, fields = forms_of(save_with_no_topic(client, link).text)["Abbestellen"]
        assert action.startswith("/unsubscribe/"), "the page's policy allows only its own site"
        done = client.post(action, data=fields)
    assert done.status_code == 200 and "Sie sind abgemeldet" in done.text
    assert site.state("geht@example.org") == "unsubscribed"


def test_the_all_topics_button_saves_every_topic(site: Site) -> None:
    reader = site.add_active("alles@example.org", locale="de", topics=["netzwerk"])
    link = f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}"
    with site.client() as client:
        action, fields = forms_of(save_with_no_topic(client, link).text)["Alle Themen erhalten"]
        saved = client.post(action, data=fields)
        again = client.get(link)
    assert saved.status_code == 200 and "Ihre Auswahl ist gespeichert" in saved.text
    assert site.subscriber("alles@example.org").topics == ()
    assert site.state("alles@example.org") == "active"
    boxes = re.findall(r'<input type="checkbox" id="topic-[^"]+" name="topics"[^>]*>', again.text)
    assert len(boxes) == len(site.config.topics) and all("checked" in box for box in boxes)
    assert "Sie erhalten alle Themen, auch später hinzukommende." in again.text


def test_the_sign_up_form_says_plainly_what_no_topic_means(site: Site) -> None:
    with site.client() as client:
        page = client.get("/subscribe", params={"lang": "de"}).text
    fieldset = re.search(r'<fieldset aria-describedby="([^"]+)">(.*?)</fieldset>', page, re.S)
    assert fieldset, page
    hint = re.search(rf'<p id="{fieldset.group(1)}">([^<]+)</p>', fieldset.group(2))
    assert hint
    assert hint.group(1) == (
        "Ohne angekreuztes Thema erhalten Sie alle Themen, auch später hinzukommende."
    )
