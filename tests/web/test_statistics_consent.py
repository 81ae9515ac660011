"""The optional consent to personalised statistics as a reader meets it, over real HTTP:
its own unticked box on the sign-up form, kept with the sign-up until the confirmation's
button is pressed, and given or withdrawn on the preferences page (withdrawing anonymises
the clicks and opens that named the reader). The whole way on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.tokens import make_token
from subscribers import store
from subscribers.schema import sign_ups as sign_ups_table
from tests.conftest import Project
from tests.report.reach_rows import click, counted, named_rows, open_of, sent_issue
from tests.web.conftest import (
    SECRET_KEY,
    Site,
    confirm_link,
    csrf_of,
    make_site,
    post_sign_up,
    press_button,
    sign_up,
)

PRIVACY = "https://netzwerk-quartier.example.org/datenschutz"
VOID = {"input", "br", "img", "meta", "link", "hr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())


class Page(HTMLParser):
    """The elements of a page as a browser's tree has them: by id, and each label's text
    by the control it names."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.by_id: dict[str, Element] = {}
        self.labels: dict[str, str] = {}
        self._open: list[Element] = []
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        if element.attrs.get("id"):
            self.by_id[str(element.attrs["id"])] = element
        if tag == "a":
            for parent in self._open:
                parent.links.append(str(element.attrs.get("href")))
        if tag not in VOID:
            self._open.append(element)

    def handle_data(self, data: str) -> None:
        for parent in self._open:
            parent.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            element = self._open.pop()
            if element.tag == "label" and element.attrs.get("for"):
                self.labels[str(element.attrs["for"])] = element.words
            if element.tag == tag:
                return


@pytest.fixture
def site_on(project: Project, database_url: str) -> Iterator[Site]:
    """The site with its store on each engine."""
    project.edit_config(
        lambda raw: raw.update(subscriptions={"rate_limit": 20}, database={"url": database_url})
    )
    yield from make_site(project, webhook_secrets={})


def _preferences(reader_id: int) -> str:
    return f"/preferences/{make_token(SECRET_KEY, 'preferences', reader_id)}"


def _consent(site: Site, address: str) -> store.StatsConsent | None:
    with site.engine.connect() as connection:
        return store.stats_consent(connection, site.subscriber(address).id)


def _causes(site: Site, address: str) -> list[str]:
    with site.engine.connect() as connection:
        return [line["cause"] for line in store.history(connection, site.subscriber(address).id)]


def _press(client: httpx.Client, link: str, label: str) -> httpx.Response:
    """Press the preferences page's statistics button named `label`."""
    page = client.get(link)
    form = re.search(
        r'<form method="post" action="([^"]+/statistics\?lang=\w+)">(.*?)</form>', page.text, re.S
    )
    assert form, page.text
    assert f">{label}</button>" in form.group(2), form.group(2)
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2))
    )
    return client.post(form.group(1), data=fields)


def test_the_form_has_its_own_unticked_box_saying_what_is_kept(site: Site) -> None:
    with site.client() as client:
        german = Page(client.get("/subscribe", params={"lang": "de"}).text)
        english = Page(client.get("/subscribe", params={"lang": "en"}).text)
    box = german.by_id["stats"]
    assert box.tag == "input" and box.attrs["type"] == "checkbox"
    assert "checked" not in box.attrs and "required" not in box.attrs
    assert box.attrs["name"] == "stats" and box.attrs["value"] == "yes"
    assert german.by_id["consent"].attrs["name"] == "consent", "a box of its own"
    assert german.labels["stats"] == (
        "Ich willige in die personalisierte Statistik ein (freiwillig): Der Newsletter "
        "speichert, welche Links welcher Ausgabe ich anklicke, zusammen mit meinem Abonnement "
        "für 395 Tage; danach werden diese Angaben anonymisiert."
    )
    hint = german.by_id[str(box.attrs["aria-describedby"])]
    assert hint.links == [PRIVACY] and "Datenschutzerklärung" in hint.words
    assert "Einstellungsseite" in hint.words
    assert english.labels["stats"].startswith(
        "I agree to personalised statistics (optional): the newsletter keeps which links of "
        "which issue I click, together with my subscription, for 395 days"
    )
    assert english.by_id[str(english.by_id["stats"].attrs["aria-describedby"])].links == [PRIVACY]


def test_the_box_names_opens_when_they_are_counted(project: Project) -> None:
    project.edit_config(lambda raw: raw.update(analytics={"opens": True, "retention_days": 30}))
    for site in make_site(project, webhook_secrets={}):
        with site.client() as client:
            page = Page(client.get("/subscribe", params={"lang": "en"}).text)
        assert "and whether I open an issue (when its images load)" in page.labels["stats"]
        assert "for 30 days" in page.labels["stats"]


def test_with_nothing_counted_the_form_asks_nothing_and_records_nothing(project: Project) -> None:
    project.edit_config(lambda raw: raw.update(analytics={"clicks": False, "opens": False}))
    for site in make_site(project, webhook_secrets={}):
        with site.client() as client:
            form = client.get("/subscribe", params={"lang": "de"}).text
            assert 'name="stats"' not in form and "Statistik" not in form
            post_sign_up(client, "leer@example.org", stats="yes")
        with site.client() as client:
            press_button(client, confirm_link(site, "leer@example.org"))
        assert _consent(site, "leer@example.org") is None


def test_a_refused_form_keeps_the_readers_tick(site: Site) -> None:
    status, page = sign_up(site, "anna@example.org", consent="", stats="yes")
    assert status == 400
    assert "checked" in Page(page).by_id["stats"].attrs
    status, page = sign_up(site, "anna@example.org", consent="")
    assert "checked" not in Page(page).by_id["stats"].attrs


def test_a_ticked_box_is_recorded_once_the_button_is_pressed(site_on: Site) -> None:
    site = site_on
    with site.client() as client:
        post_sign_up(client, "anna@example.org", stats="yes")
    with site.engine.connect() as connection:
        waiting = connection.execute(
            sa.select(sign_ups_table.c.stats_consent_text_version)
        ).scalar_one()
    assert waiting == "1", "analytics.consent_text_version, kept with the sign-up"
    assert _consent(site, "anna@example.org") is None, "nothing before the confirmation"
    with site.client() as client:
        assert press_button(client, confirm_link(site, "anna@example.org")).status_code == 200
    consent = _consent(site, "anna@example.org")
    assert consent is not None and consent.text_version == "1"
    assert "agreed to personalised statistics (text version 1, sign-up form)" in _causes(
        site, "anna@example.org"
    )


def test_an_unticked_box_gives_no_consent(site: Site) -> None:
    with site.client() as client:
        post_sign_up(client, "ben@example.org")
    with site.client() as client:
        press_button(client, confirm_link(site, "ben@example.org"))
    assert site.state("ben@example.org") == "active"
    assert _consent(site, "ben@example.org") is None


def test_the_reader_gives_and_withdraws_it_on_the_preferences_page(site_on: Site) -> None:
    """Withdrawing anonymises the reader's clicks and opens at once; another reader's and
    the anonymous ones stay as they were, and every click still counts."""
    site = site_on
    anna = site.add_active("anna@example.org", locale="de")
    cleo = site.add_active("cleo@example.org", locale="de")
    link = _preferences(anna.id)
    with site.client() as client:
        page = Page(client.get(link).text)
        assert page.by_id["statistics-heading"].words == "Personalisierte Statistik"
        assert page.by_id["statistics-text"].links == [PRIVACY]
        given = _press(client, link, "In die personalisierte Statistik einwilligen")
    assert given.status_code == 303 and given.headers["location"].startswith(link)
    assert _consent(site, "anna@example.org") is not None
    assert "agreed to personalised statistics (text version 1, preferences page)" in _causes(
        site, "anna@example.org"
    )
    now = db.now()
    with site.engine.begin() as connection:
        store.give_stats_consent(connection, cleo.id, now, "1", "test")
        issue = sent_issue(connection, 1, ["https://example.org/a", "https://example.org/b"], now)
        click(connection, issue, 1, now, anna.id)
        click(connection, issue, 2, now, anna.id)
        click(connection, issue, 1, now, cleo.id)
        click(connection, issue, 2, now)
        open_of(connection, issue, now, anna.id)
    with site.client() as client:
        shown = client.get(given.headers["location"])
        assert "Ihre Wahl zur personalisierten Statistik ist gespeichert." in shown.text
        assert "Sie haben am" in shown.text and "eingewilligt" in shown.text
        withdrawn = _press(client, link, "Einwilligung widerrufen")
        after = client.get(withdrawn.headers["location"])
    assert withdrawn.status_code == 303
    assert "In die personalisierte Statistik einwilligen" in after.text
    assert _consent(site, "anna@example.org") is None
    assert "withdrew personalised statistics (preferences page)" in _causes(
        site, "anna@example.org"
    )
    with site.engine.connect() as connection:
        assert named_rows(connection, anna.id) == (0, 0)
        assert named_rows(connection, cleo.id) == (1, 0)
        assert counted(connection) == (4, 1)


def test_a_new_sign_up_without_the_box_withdraws_it_and_anonymises(site: Site) -> None:
    reader = site.add_active("dora@example.org")
    now = db.now()
    with site.engine.begin() as connection:
        store.give_stats_consent(connection, reader.id, now, "1", "test")
        click(
            connection, sent_issue(connection, 1, ["https://example.org/a"], now), 1, now, reader.id
        )
        store.set_state(connection, reader.id, "unsubscribed", "test")
    with site.client() as client:
        post_sign_up(client, "dora@example.org")
    with site.client() as client:
        press_button(client, confirm_link(site, "dora@example.org"))
    assert _consent(site, "dora@example.org") is None
    with site.engine.connect() as connection:
        assert named_rows(connection, reader.id) == (0, 0)
        assert counted(connection) == (1, 0)


def test_a_forged_or_stale_statistics_form_changes_nothing(site: Site) -> None:
    reader = site.add_active("eva@example.org", locale="de")
    link = _preferences(reader.id)
    with site.client() as client:
        page = client.get(link).text
        action = f"{link}/statistics"
        forged = client.post(action, data={"csrf": "forged", "statistics": "give"})
        other_form = client.post(action, data={"csrf": csrf_of(page), "statistics": "give"})
        unknown = client.post(action, data={"statistics": "maybe", "csrf": _statistics_csrf(page)})
        no_token = client.post("/preferences/not-a-token/statistics", data={"statistics": "give"})
    assert forged.status_code == 400 and "abgelaufen" in forged.text
    assert other_form.status_code == 400, "the topics form's token is not this form's"
    assert unknown.status_code == 400 and "Nichts geändert" in unknown.text
    assert no_token.status_code == 400 and "nicht gültig" in no_token.text
    assert _consent(site, "eva@example.org") is None
    assert not any("statistics" in cause for cause in _causes(site, "eva@example.org"))


def _statistics_csrf(page: str) -> str:
    form = re.search(
        r'action="[^"]+/statistics\?lang=\w+">\s*<input type="hidden" name="csrf" value="([^"]+)"',
        page,
    )
    assert form, page
    return form.group(1)


def test_a_reader_who_agreed_can_still_withdraw_when_counting_is_off(project: Project) -> None:
    """Switching clicks and opens off hides the offer, never the way out."""
    project.edit_config(lambda raw: raw.update(analytics={"clicks": False, "opens": False}))
    for site in make_site(project, webhook_secrets={}):
        agreed = site.add_active("fiona@example.org", locale="en")
        other = site.add_active("gerd@example.org", locale="en")
        with site.engine.begin() as connection:
            store.give_stats_consent(connection, agreed.id, db.now(), "1", "test")
        with site.client() as client:
            assert "Personalised statistics" not in client.get(_preferences(other.id)).text
            page = Page(client.get(_preferences(agreed.id)).text)
            assert page.by_id["statistics-heading"].words == "Personalised statistics"
            withdrawn = _press(client, _preferences(agreed.id), "Withdraw consent")
        assert withdrawn.status_code == 303
        assert _consent(site, "fiona@example.org") is None
