"""Which language a page speaks: `?lang=`, then the language of the subscriber a token
names, then the browser's Accept-Language by its q-values, then `site.locale`; and a
switch of plain links on every public page."""

from __future__ import annotations

import html
import re

import pytest

from pipeline.tokens import make_token
from tests.conftest import Project
from tests.web.conftest import SECRET_KEY, Site, confirm_link, make_site, post_sign_up

GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9"}


def language_of(page: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', page)
    assert found, page[:200]
    return found.group(1)


def test_an_english_reader_gets_english_pages_from_a_german_browser(site: Site) -> None:
    reader = site.add_active("reader@example.org", locale="en")
    unsubscribe = f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', reader.id)}"
    preferences = f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}"
    with site.client() as client:
        page = client.get(unsubscribe, headers=GERMAN_BROWSER)
        assert language_of(page.text) == "en" and "<h1>Unsubscribe</h1>" in page.text
        assert language_of(client.get(preferences, headers=GERMAN_BROWSER).text) == "en"
        # `?lang=` wins over the reader's own language.
        asked = client.get(unsubscribe, params={"lang": "de"}, headers=GERMAN_BROWSER)
        assert language_of(asked.text) == "de" and "<h1>Abbestellen</h1>" in asked.text
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action
        done = client.post(
            html.unescape(action.group(1)),
            data={"List-Unsubscribe": "One-Click"},
            headers=GERMAN_BROWSER,
        )
    assert language_of(done.text) == "en" and "You are unsubscribed" in done.text


def test_the_confirm_page_speaks_the_language_chosen_at_sign_up(site: Site) -> None:
    with site.client() as client:
        answer = post_sign_up(client, "new@example.org", headers=GERMAN_BROWSER, locale="en")
        assert answer.status_code == 200
        link = confirm_link(site, "new@example.org")
        page = client.get(link, headers=GERMAN_BROWSER)
        assert language_of(page.text) == "en" and "Confirm your subscription" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        done = client.post(link, data={"csrf": csrf.group(1), "name": ""}, headers=GERMAN_BROWSER)
    assert language_of(done.text) == "en" and "Subscription confirmed" in done.text


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en-GB,en;q=0.9,de;q=0.8", "en"),
        ("de;q=0.5, en;q=0.9", "en"),
        ("en;q=0.5, de;q=0.9", "de"),
        ("fr, en;q=0.1", "en"),
        ("en;q=0, fr", "de"),  # q=0 is "not English"; nothing of ours is left: site.locale
        ("fr-FR, it", "de"),
        ("de;q=zero, en;q=0.2", "en"),
        ("", "de"),
    ],
)
def test_the_browser_language_counts_by_its_weights(
    site: Site, accept_language: str, expected: str
) -> None:
    with site.client() as client:
        page = client.get("/subscribe", headers={"Accept-Language": accept_language})
    assert language_of(page.text) == expected


def test_without_a_browser_language_the_site_locale_decides(project: Project) -> None:
    project.edit_config(lambda raw: raw["site"].update(locale="en"))  # type: ignore[attr-defined]
    for english_site in make_site(project, webhook_secrets={}):
        with english_site.client() as client:
            unknown = client.get("/subscribe", headers={"Accept-Language": "fr"})
            german = client.get("/subscribe", headers=GERMAN_BROWSER)
        assert language_of(unknown.text) == "en"
        assert language_of(german.text) == "de"


def switch_of(page: str) -> dict[str, str]:
    nav = re.search(r'<nav aria-label="[^"]+">(.*?)</nav>', page, re.S)
    assert nav, "no language switch on the page"
    return {
        code: html.unescape(href)
        for href, code in re.findall(r'<a href="([^"]+)" lang="([a-z]+)" hreflang', nav.group(1))
    }


def test_every_public_page_has_a_language_switch_of_plain_links(site: Site) -> None:
    reader = site.add_active("switch@example.org", locale="de")
    pages = [
        "/subscribe?email=switch%40example.org",
        "/subscribe/thanks",
        "/archive",
        f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', reader.id)}",
        f"/preferences/{make_token(SECRET_KEY, 'preferences', reader.id)}",
        "/confirm/not-a-token",
    ]
    with site.client() as client:
        for path in pages:
            page = client.get(path, headers=GERMAN_BROWSER)
            assert "<script" not in page.text
            switch = switch_of(page.text)
            assert set(switch) == {"de", "en"}, path
            english = client.get(switch["en"], headers=GERMAN_BROWSER)
            assert language_of(english.text) == "en", path
            assert switch_of(english.text)["de"].split("?")[0] == path.split("?")[0]
            assert language_of(client.get(switch["de"]).text) == "de", path
    # The switch keeps what else the address says: the prefilled sign-up stays prefilled.
    with site.client() as client:
        form = client.get("/subscribe?email=switch%40example.org&lang=en")
        kept = client.get(switch_of(form.text)["de"])
    assert 'value="switch@example.org"' in kept.text and language_of(kept.text) == "de"
