"""`/submit` over real HTTP: the public form, a partner's link, a revoked one, the
defences (form token, honeypot, flood, size), validation by field, and no mail at all."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.db import items
from pipeline.partners import add_partner, revoke_partner
from tests.conftest import Project
from tests.web.conftest import SECRET_KEY, Site, csrf_of, make_site, outbox_files

REPORT = {
    "kind": "report",
    "title": "Neuer Gemeinschaftsgarten in Gaarden",
    "summary": "Im Stadtteil Gaarden hat ein Gemeinschaftsgarten eröffnet.",
    "link": "https://partner.example.org/garten",
    "topics": ["netzwerk"],
    "body": "Alle sind willkommen.<script>alert(1)</script>",
    "website": "",
}


@pytest.fixture
def submit_site(project: Project) -> Iterator[Site]:
    project.edit_config(
        lambda raw: raw.update(rate_limits={"submission": {"count": 3, "window_s": 3600}})
    )
    yield from make_site(project, webhook_secrets={})


def _send(
    client: httpx.Client, path: str, fields: dict[str, Any], lang: str = "de"
) -> httpx.Response:
    form = client.get(path, params={"lang": lang})
    assert form.status_code == 200, form.text
    data = {"csrf": csrf_of(form.text), "locale": lang} | fields
    return client.post(path, params={"lang": lang}, data=data)


def _stored(site: Site) -> list[dict[str, Any]]:
    with site.engine.connect() as connection:
        rows = connection.execute(sa.select(items).order_by(items.c.id)).all()
    return [dict(row._mapping) for row in rows if row.key.startswith("submit:")]


def _partner_link(site: Site, name: str = "Stadtteilbüro Nord") -> str:
    partner = add_partner(site.engine, name, "buero@nord.example.org", datetime.now(UTC))
    return site.local(partner.link(str(site.config.site.base_url), (SECRET_KEY,)))


def test_a_public_submission_is_stored_as_submitted_shown_on_the_page_and_mails_nobody(
    submit_site: Site,
) -> None:
    with submit_site.client() as client:
        answer = _send(client, "/submit", REPORT)
    assert answer.status_code == 200
    page = HTMLParser(answer.text)
    assert page.css_first("h1").text() == "Vielen Dank für Ihre Nachricht"
    assert "Neuer Gemeinschaftsgarten in Gaarden" in page.css_first("main").text()
    [item] = _stored(submit_site)
    assert item["state"] == "submitted" and item["partner_id"] is None
    assert item["key"].startswith("submit:public:")
    assert item["source"] == "Öffentliches Formular" and item["topics"] == ["netzwerk"]
    assert "<script" not in item["body_html"] and "Alle sind willkommen." in item["body_html"]
    assert not list(submit_site.project.content_dir.glob("*gemeinschaftsgarten*"))
    submit_site.app_context.mails.close()  # type: ignore[attr-defined]  # all queued is sent
    assert outbox_files(submit_site.project.outbox) == []


def test_the_form_speaks_english_too(submit_site: Site) -> None:
    with submit_site.client() as client:
        form = client.get("/submit", params={"lang": "en"})
        answer = _send(client, "/submit", REPORT, lang="en")
    assert HTMLParser(form.text).css_first("h1").text().startswith("Send news in to ")
    assert HTMLParser(answer.text).css_first("h1").text() == "Thank you for your news"


def test_every_problem_is_named_beside_its_field_and_nothing_is_stored(submit_site: Site) -> None:
    bad = {
        "kind": "event",
        "title": "",
        "summary": "Ein Termin",
        "image": "http://partner.example.org/bild.jpg",
        "event_end": "2026-12-01T10:00",
        "topics": ["gibt-es-nicht"],
    }
    with submit_site.client() as client:
        answer = _send(client, "/submit", bad)
    assert answer.status_code == 400
    page = HTMLParser(answer.text)
    invalid = {node.attributes["id"] for node in page.css("[aria-invalid=true]")}
    assert {"title", "image", "event_start", "topics"} <= invalid, invalid
    for name in invalid:
        described = page.css_first(f"#{name}").attributes["aria-describedby"] or ""
        assert f"{name}-error" in described.split()
        assert page.css_first(f"#{name}-error").text().strip()
    assert page.css_first("#summary").text() == "Ein Termin"  # what was typed stays
    assert _stored(submit_site) == []


def test_links_into_a_local_network_are_refused_beside_their_fields(submit_site: Site) -> None:
    """A reader must not be sent to the router, the office server or the machine itself."""
    event = {
        "kind": "event",
        "title": "Sprechstunde",
        "summary": "Fragen zum Quartiersfonds.",
        "event_start": "2027-01-14T17:00",
        "link": "http://192.168.178.1/termine",
        "event_online_url": "http://fritz.box/meet",
        "image": "https://2130706433/bild.jpg",
        "image_alt": "Ein Bild",
    }
    with submit_site.client() as client:
        answer = _send(client, "/submit", event)
    assert answer.status_code == 400
    page = HTMLParser(answer.text)
    for name in ("link", "event_online_url", "image"):
        assert page.css_first(f"#{name}").attributes.get("aria-invalid") == "true", name
        message = page.css_first(f"#{name}-error").text()
        assert "öffentlichen Internet" in message, (name, message)
    assert _stored(submit_site) == []


def test_an_event_with_an_online_link_and_no_place_is_accepted(submit_site: Site) -> None:
    event = {
        "kind": "event",
        "title": "Online-Sprechstunde Quartiersfonds",
        "summary": "Fragen zum Quartiersfonds, online.",
        "event_start": "2027-01-14T17:00",
        "event_end": "2027-01-14T18:30",
        "event_online_url": "https://meet.example.org/fonds",
        "image": "https://partner.example.org/bild.jpg",
        "image_alt": "Ein Laptop mit Videokonferenz",
    }
    with submit_site.client() as client:
        assert _send(client, "/submit", event).status_code == 200
    [item] = _stored(submit_site)
    assert item["kind"] == "event" and item["event_online_url"] == "https://meet.example.org/fonds"
    assert item["event_start"] == datetime(2027, 1, 14, 16, tzinfo=UTC)  # 17:00 in Berlin
    assert item["image_alt"] == "Ein Laptop mit Videokonferenz"


def test_the_same_submission_sent_twice_is_one_item(submit_site: Site) -> None:
    with submit_site.client() as client:
        assert _send(client, "/submit", REPORT).status_code == 200
        assert _send(client, "/submit", REPORT).status_code == 200
    assert len(_stored(submit_site)) == 1


def test_a_partners_link_names_the_partner(submit_site: Site) -> None:
    link = _partner_link(submit_site)
    with submit_site.client() as client:
        form = client.get(link)
        assert "Stadtteilbüro Nord" in HTMLParser(form.text).css_first("main").text()
        assert _send(client, link, REPORT).status_code == 200
    [item] = _stored(submit_site)
    assert item["source"] == "Stadtteilbüro Nord" and item["partner_id"] is not None
    assert item["key"].startswith(f"submit:{item['partner_id']}:")


def test_a_revoked_link_is_refused_at_once(submit_site: Site) -> None:
    link = _partner_link(submit_site)
    with submit_site.client() as client:
        form = client.get(link)
        revoke_partner(submit_site.engine, "Stadtteilbüro Nord", datetime.now(UTC))
        refused = client.post(link, data={"csrf": csrf_of(form.text)} | REPORT)
        assert refused.status_code == 404
        assert client.get(link).status_code == 404
        assert client.get(link[:-3] + "xyz").status_code == 404  # an altered link
    assert _stored(submit_site) == []


def test_partners_only_closes_the_public_form(project: Project) -> None:
    project.edit_config(lambda raw: raw.update(submit={"partners_only": True}))
    for site in make_site(project, webhook_secrets={}):
        with site.client() as client:
            assert client.get("/submit").status_code == 403
            assert client.post("/submit", data=REPORT).status_code == 403
            assert _send(client, _partner_link(site), REPORT).status_code == 200
        assert [item["source"] for item in _stored(site)] == ["Stadtteilbüro Nord"]


def test_a_flood_is_refused_with_429(submit_site: Site) -> None:
    with submit_site.client() as client:
        answers = [
            _send(client, "/submit", REPORT | {"title": f"Meldung Nummer {n} aus dem Netz"})
            for n in range(4)
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert len(_stored(submit_site)) == 3


def test_a_form_without_its_token_or_with_the_honeypot_stores_nothing(submit_site: Site) -> None:
    with submit_site.client() as client:
        forged = client.post("/submit", data=REPORT | {"csrf": "forged"})
        trapped = _send(client, "/submit", REPORT | {"website": "https://spam.example"})
    assert forged.status_code == 400
    assert "abgelaufen" in HTMLParser(forged.text).css_first("[role=alert]").text()
    assert trapped.status_code == 200  # a bot is told nothing
    assert _stored(submit_site) == []


def test_an_oversized_body_is_refused_with_413(submit_site: Site) -> None:
    with submit_site.client() as client:
        form = client.get("/submit")
        data = {"csrf": csrf_of(form.text)} | REPORT | {"body": "x" * 70_000}
        answer = client.post("/submit", data=data)
    assert answer.status_code == 413
    assert _stored(submit_site) == []
    assert re.search(r"<h1>[^<]+</h1>", answer.text)


def _wait_for_mails(site: Site, count: int) -> list[Path]:
    deadline = time.monotonic() + 20
    while len(outbox_files(site.project.outbox)) < count:
        assert time.monotonic() < deadline, "the mails did not reach the outbox"
        time.sleep(0.05)
    return outbox_files(site.project.outbox)


def _parsed(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_partners_submission_mails_the_editors_and_the_partners_registered_address(
    submit_site: Site,
) -> None:
    link = _partner_link(submit_site)
    with submit_site.client() as client:
        # An address typed into the form is never mailed: only the registered one is.
        answer = _send(client, link, REPORT | {"email": "someone-else@example.org"})
    assert answer.status_code == 200
    [item] = _stored(submit_site)
    mails = {str(m["To"]): m for m in map(_parsed, _wait_for_mails(submit_site, 2))}
    assert set(mails) == {"redaktion@netzwerk-quartier.example.org", "buero@nord.example.org"}
    notice = mails["redaktion@netzwerk-quartier.example.org"]
    # A long subject is folded at its start; a mail client shows it unfolded and trimmed.
    assert notice["Subject"].strip() == "Eingesandt: Neuer Gemeinschaftsgarten in Gaarden"
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Stadtteilbüro Nord" in text
    assert f"{submit_site.config.site.url}/desk/items/{item['id']}/edit" in text
    got = mails["buero@nord.example.org"]
    assert (
        got["Subject"].strip()
        == "Wir haben Ihre Nachricht erhalten: Neuer Gemeinschaftsgarten in Gaarden"
    )
    assert f"{submit_site.config.site.url}/archive" in got.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    time.sleep(0.5)  # nothing more follows: one notice per editor, one receipt
    assert len(outbox_files(submit_site.project.outbox)) == 2
