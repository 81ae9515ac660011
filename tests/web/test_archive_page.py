"""The archive as a reader finds it: `/` leads there, the sign-up at its top, each issue
with its date as the reader's language writes it and its headlines; a web view without
a link to itself; an unknown address that says where to go, never a bare "Not Found"."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline import db
from pipeline.collect import collect
from pipeline.issue.build import build_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import make_provider
from tests.web.conftest import SECRET_KEY, Site

# Late on 6 December in UTC is 7 December in Berlin (site.timezone).
FINISHED = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)


def send_one_issue(site: Site) -> tuple[int, list[str]]:
    """An issue sent to one reader; its number and its items' titles in the issue's order."""
    site.add_active("leser@example.org", name="Lea")
    collect(site.config, site.engine)
    built = build_issue(site.engine, site.config, db.now())
    deliver(site.engine, site.config, built.id, make_provider(site.config), SECRET_KEY)
    with site.engine.begin() as connection:
        connection.execute(
            sa.update(db.issues).where(db.issues.c.id == built.id).values(finished_at=FINISHED)
        )
        titles = connection.execute(
            sa.select(db.items.c.title)
            .join(db.issue_items, db.issue_items.c.item_id == db.items.c.id)
            .where(db.issue_items.c.issue_id == built.id)
            .order_by(db.issue_items.c.position)
        ).scalars()
        return built.number, list(titles)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_each_issue_shows_its_date_as_the_language_writes_it_and_its_headlines(
    site: Site,
) -> None:
    number, titles = send_one_issue(site)
    with site.client() as client:
        german = client.get("/archive", params={"lang": "de"}).text
        english = client.get("/archive", params={"lang": "en"}).text
    entry = re.search(rf'<li>\s*<h3><a href="/archive/{number}">.*?</li>\s*</ul>', german, re.S)
    assert entry, german
    assert '<time datetime="2026-12-07">7. Dezember 2026</time>' in entry.group(0)
    assert "2026-12-0" not in text_of(entry.group(0))
    headlines = re.findall(r"<li>([^<]+)</li>", entry.group(0))
    assert len(titles) > 5, "the sample content fills more than the five headlines shown"
    shown = titles[:5]
    assert [html.unescape(h) for h in headlines[: len(shown)]] == shown
    assert f"<li>und {len(titles) - 5} weitere</li>" in entry.group(0)
    assert '<time datetime="2026-12-07">December 7, 2026</time>' in english


def test_the_home_page_is_the_archive_with_the_sign_up_at_its_top(site: Site) -> None:
    with site.client() as client:
        home = client.get("/", follow_redirects=False)
        english = client.get("/?lang=en", follow_redirects=False)
        archive = client.get(home.headers["location"])
        sign_up = re.search(r'<form method="get" action="([^"]+)">(.*?)</form>', archive.text, re.S)
        assert sign_up
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', sign_up.group(2))
        )
        form = client.get(sign_up.group(1), params={**fields, "email": "neu@example.org"})
    assert home.status_code == 302 and home.headers["location"] == "/archive"
    assert english.headers["location"] == "/archive?lang=en"
    assert archive.status_code == 200
    # The sign-up comes before the list of issues.
    assert archive.text.index("<form") < archive.text.index("<h2>Archiv</h2>")
    assert 'for="email"' in sign_up.group(2)
    assert form.status_code == 200 and 'value="neu@example.org"' in form.text
    assert "<h1>Den Newsletter von" in form.text


def test_an_unknown_address_leads_to_the_archive_and_the_sign_up(site: Site) -> None:
    with site.client() as client:
        german = client.get("/gibt-es-nicht", headers={"Accept-Language": "de"})
        english = client.get("/archiv", params={"lang": "en"})
    assert german.status_code == 404
    assert german.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in german.text and "<h1>Seite nicht gefunden</h1>" in german.text
    assert '<a href="/archive?lang=de">Zum Archiv und zur Anmeldung</a>' in german.text
    assert german.headers["content-security-policy"].startswith("default-src 'none'")
    assert english.status_code == 404 and "<h1>Page not found</h1>" in english.text


def test_the_web_view_has_no_link_to_view_itself_in_the_browser(site: Site) -> None:
    number, _ = send_one_issue(site)
    mail = site.mails_to("leser@example.org")[0]
    mail_html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Diese Ausgabe im Browser ansehen" in mail_html, "the mail itself keeps the link"
    with site.client() as client:
        view = client.get(f"/archive/{number}", params={"lang": "de"}).text
    assert "Diese Ausgabe im Browser ansehen" not in view
    assert "Im Browser ansehen" not in view
    assert f"/archive/{number}" not in view
    # The rest of the footer stays, separators and all.
    assert "Impressum</a>" in view and "Datenschutzerklärung</a>" in view
    assert "Abbestellen</a> · <a href" in view and "· ·" not in text_of(view)
