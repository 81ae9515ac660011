"""Submissions on the desk: listed first under "Eingesandt" with the partner's name, and
only an editor's approve moves one on; drop takes it out."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.db import items
from pipeline.partners import add_partner
from pipeline.web.desk.pages import SESSION_COOKIE
from tests.desk.conftest import EDITOR, desk_csrf, item_state, session_cookie
from tests.web.conftest import SECRET_KEY, Site, csrf_of


def _submit(desk: Site, title: str) -> int:
    partner = add_partner(
        desk.engine, f"Verein {title[:12]}", "verein@example.org", datetime.now(UTC)
    )
    link = desk.local(partner.link(str(desk.config.site.base_url), (SECRET_KEY,)))
    fields = {"kind": "report", "title": title, "summary": "Eine Meldung aus dem Verein."}
    with desk.client() as client:
        form = client.get(link)
        assert client.post(link, data={"csrf": csrf_of(form.text)} | fields).status_code == 200
    with desk.engine.connect() as connection:
        return int(
            connection.execute(sa.select(items.c.id).where(items.c.title == title)).scalar_one()
        )


def test_an_editor_approves_one_submission_and_drops_another(desk: Site) -> None:
    kept = _submit(desk, "Neue Werkstatt im Quartier eröffnet")
    dropped = _submit(desk, "Werbung für ein ganz anderes Produkt")
    # Each editor is told of each: the mails name the item's desk page.
    notice = desk.wait_for_mail(EDITOR, count=2).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/desk/items/{dropped}/edit" in notice
    with desk.client() as client:
        client.cookies.set(SESSION_COOKIE, session_cookie(desk))
        page = HTMLParser(client.get("/desk", params={"lang": "de"}).text)
        first_group = page.css_first("h2")
        assert first_group.text().startswith("Eingesandt (2)")
        row = page.css_first(f"#item-{kept}")
        assert "Eingesandt: Verein Neue Werks" in row.text()
        actions = [b.text() for b in row.css("button")] + [a.text() for a in row.css("a.button")]
        assert sorted(actions) == ["Freigeben", "Verwerfen", "Zurückhalten"]
        item_page = HTMLParser(client.get(f"/desk/items/{kept}/edit", params={"lang": "de"}).text)
        assert "Eingesandt von Verein Neue Werks" in item_page.css_first("main").text()
        csrf = desk_csrf(client)
        approve = client.post(f"/desk/items/{kept}/state/approve", data={"csrf": csrf})
        drop = client.post(
            f"/desk/items/{dropped}/state/drop", data={"csrf": csrf, "confirm": "yes"}
        )
    assert approve.status_code == 303 and drop.status_code == 303
    assert item_state(desk, kept) == "approved"
    assert item_state(desk, dropped) == "dropped"
