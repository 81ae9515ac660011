"""What the pages of `serve` do with an issue's links, over real HTTP on both engines.

The archive's web view links straight to the destinations (nothing counted, no opens
image). An unsubscribe is counted for the issue whose mail carried the link: the one-click
POST, the page's button and the preferences page's link all name it; an older link, made
before links named their issue, counts for the last issue delivered to the reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.collect import collect
from pipeline.db import issue_links, issues
from pipeline.issue.build import build_issue
from pipeline.send import reader_changes
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from pipeline.tokens import make_token, read_link
from subscribers.schema import subscriber_events
from tests.conftest import Project
from tests.web.conftest import SECRET_KEY, Site, make_site

LATER_ITEM = """---
title: Zweite Ausgabe, neuer Beitrag
kind: news
date: 2022-03-10
summary: Ein Beitrag, der erst in der zweiten Ausgabe steht.
link: https://netzwerk-quartier.example.org/neues/zweite-ausgabe
status: ready
---
"""


class _Links(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in found:
            self.links.append(found["href"])
        elif tag == "img":
            self.images.append(found.get("src", ""))
        elif tag == "form":
            self.forms.append({"action": found.get("action", "")})
        elif tag == "input" and self.forms and "name" in found:
            self.forms[-1][found["name"]] = found.get("value", "")


@pytest.fixture
def site(project: Project, database_url: str) -> Iterator[Site]:
    """The app on SQLite or PostgreSQL, counting clicks and opens as mails are built."""
    project.edit_config(
        lambda raw: raw.update(database={"url": database_url}, analytics={"opens": True})
    )
    yield from make_site(project, webhook_secrets={})


def send_issue(site: Site) -> tuple[int, int]:
    """Collect, build and deliver the next issue into the outbox: (its id, its number)."""
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    return built.id, built.number


def one_click_url(mail: EmailMessage) -> str:
    match = re.search(r"<(https://[^>]+)>", str(mail["List-Unsubscribe"]))
    assert match, mail["List-Unsubscribe"]
    return match.group(1)


def last_event(site: Site, subscriber_id: int) -> tuple[str, str, int | None]:
    with site.engine.connect() as connection:
        state, cause, issue_id = connection.execute(
            sa.select(
                subscriber_events.c.state, subscriber_events.c.cause, subscriber_events.c.issue_id
            )
            .where(subscriber_events.c.subscriber_id == subscriber_id)
            .order_by(subscriber_events.c.id.desc())
            .limit(1)
        ).one()
    return state, cause, issue_id


def test_the_web_view_links_straight_to_the_destinations(site: Site) -> None:
    site.add_active("leser@example.org", name="Lea")
    issue_id, number = send_issue(site)
    mail = site.mails_to("leser@example.org")[0]
    assert "/r/" in str(mail.get_body(("html",)).get_content())  # type: ignore[union-attr]
    with site.engine.connect() as connection:
        destinations = set(
            connection.execute(
                sa.select(issue_links.c.url).where(
                    issue_links.c.issue_id == issue_id, issue_links.c.variant == "de"
                )
            ).scalars()
        )
    with site.client() as client:
        answer = client.get(f"/archive/{number}?lang=de")
    assert answer.status_code == 200
    page = _Links(answer.text)
    assert destinations and destinations <= set(page.links)
    assert "https://netzwerk-quartier.example.org/berichte/jahresauftakt-2022" in page.links
    assert not [href for href in page.links if "/r/" in href]
    assert not [src for src in page.images if "/o/" in src]
    assert "%%NL:" not in answer.text


def test_a_one_click_unsubscribe_counts_for_the_issue_whose_mail_carried_it(
    site: Site,
) -> None:
    reader = site.add_active("leser@example.org")
    first_id, _first = send_issue(site)
    (site.project.content_dir / "2022-03-10-zweite.md").write_text(LATER_ITEM, encoding="utf-8")
    second_id, _second = send_issue(site)
    first_mail, second_mail = site.mails_to("leser@example.org")
    assert one_click_url(first_mail) != one_click_url(second_mail)
    # The first issue's mail, answered late: the unsubscribe is the first issue's.
    with site.client() as client:
        answer = client.post(
            site.local(one_click_url(first_mail)), data={"List-Unsubscribe": "One-Click"}
        )
    assert answer.status_code == 200
    assert last_event(site, reader.id) == ("unsubscribed", reader_changes.ONE_CLICK, first_id)
    assert first_id != second_id


def test_the_unsubscribe_pages_button_is_told_apart_from_a_mail_apps_one_click(
    site: Site,
) -> None:
    reader = site.add_active("leser@example.org")
    issue_id, _number = send_issue(site)
    (mail,) = site.mails_to("leser@example.org")
    text = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    link = re.search(r"https://\S+/unsubscribe/\S+", text)
    assert link
    with site.client() as client:
        page = client.get(site.local(link.group(0)))
        (form,) = _Links(page.text).forms
        action = form.pop("action")
        assert client.post(action, data=form).status_code == 200
    assert last_event(site, reader.id) == ("unsubscribed", reader_changes.PAGE, issue_id)


def test_the_preferences_pages_unsubscribe_link_names_the_issue(site: Site) -> None:
    reader = site.add_active("leser@example.org")
    _issue_id, number = send_issue(site)
    (mail,) = site.mails_to("leser@example.org")
    text = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    link = re.search(r"https://\S+/preferences/\S+", text)
    assert link
    with site.client() as client:
        page = client.get(site.local(link.group(0)))
    (unsubscribe,) = [href for href in _Links(page.text).links if "/unsubscribe/" in href]
    found = read_link(SECRET_KEY, "unsubscribe", unsubscribe.rpartition("/")[2])
    assert (found.subscriber_id, found.issue) == (reader.id, number)


def test_an_older_link_counts_for_the_last_issue_delivered_to_the_reader(site: Site) -> None:
    reader = site.add_active("leser@example.org")
    send_issue(site)
    (site.project.content_dir / "2022-03-10-zweite.md").write_text(LATER_ITEM, encoding="utf-8")
    second_id, _number = send_issue(site)
    newcomer = site.add_active("neu@example.org")  # signed up after both issues
    with site.client() as client:
        for subscriber_id in (reader.id, newcomer.id):
            old_link = f"/unsubscribe/{make_token(SECRET_KEY, 'unsubscribe', subscriber_id)}"
            answer = client.post(old_link, data={"List-Unsubscribe": "One-Click"})
            assert answer.status_code == 200
    assert last_event(site, reader.id) == ("unsubscribed", reader_changes.ONE_CLICK, second_id)
    assert last_event(site, newcomer.id) == ("unsubscribed", reader_changes.ONE_CLICK, None)
    with site.engine.connect() as connection:
        numbers = connection.execute(sa.select(issues.c.number).order_by(issues.c.number))
        assert list(numbers.scalars()) == [1, 2]
