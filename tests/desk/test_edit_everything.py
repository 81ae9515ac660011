"""The edit form edits everything the add form sets (link, date, topics, image, the
Markdown body), writes only what changed back to the file, and previews the item as the
issue will show it, on a button, without saving anything."""

from __future__ import annotations

import html
import re
from pathlib import Path

import sqlalchemy as sa

from pipeline.db import items
from tests.desk.conftest import desk_csrf, item_id, sign_in_browser, signed_in
from tests.web.browser import chromium
from tests.web.conftest import Site

PARTNER = "folder:2022-03-02-partner-wohnen-herne.md"
EDITORIAL = "folder:2022-03-01-editorial.md"


def _file(desk: Site, key: str) -> Path:
    return desk.project.content_dir / key.removeprefix("folder:")


def _input_value(page: str, name: str) -> str:
    found = re.search(rf'<input type="[a-z-]+" id="{name}" name="{name}" value="([^"]*)"', page)
    assert found, f"no input {name}"
    return html.unescape(found.group(1))


def _stored(desk: Site, number: int) -> sa.Row[tuple[object, ...]]:
    with desk.engine.connect() as connection:
        return connection.execute(sa.select(items).where(items.c.id == number)).one()


def test_the_edit_form_shows_every_field_of_the_file(desk: Site) -> None:
    path = _file(desk, EDITORIAL)
    path.write_text(path.read_text(encoding="utf-8") + "\nZweiter Absatz mit **Betonung**.\n")
    number = item_id(desk, EDITORIAL)
    with signed_in(desk) as client:
        page = client.get(f"/desk/items/{number}/edit?lang=de").text
    assert _input_value(page, "date") == "2022-03-01"
    assert _input_value(page, "link") == ""
    assert 'id="image"' in page and 'name="topics"' in page
    body = re.search(
        r'<textarea id="body" name="body" class="body"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert body and "Zweiter Absatz mit **Betonung**." in html.unescape(body.group(1))
    assert 'name="preview" value="yes"' in page


def test_an_edit_changes_link_date_topics_image_and_body_and_keeps_the_rest(desk: Site) -> None:
    number = item_id(desk, PARTNER)
    path = _file(desk, PARTNER)
    before = path.read_text(encoding="utf-8")
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit?lang=de",
            data={
                "csrf": desk_csrf(client),
                "link": "https://quartierswerk-herne.example.org/",
                "date": "2022-03-05",
                "topics": ["", "partner", "netzwerk"],
                "image": "https://quartierswerk-herne.example.org/laden.jpg",
                "body": "Die Läden öffnen im Mai.\r\n\r\nMehr beim *Sommerfest*.",
            },
        )
    assert answer.status_code == 303, answer.text
    after = path.read_text(encoding="utf-8")
    # Changed keys are rewritten in place; untouched lines keep their bytes.
    for line in ("title:", "summary:", "image_alt:", "status: ready", "kind: partner"):
        assert next(x for x in before.splitlines() if x.startswith(line)) in after.splitlines()
    assert "link: https://quartierswerk-herne.example.org/" in after
    assert "date: 2022-03-05" in after
    assert "image: https://quartierswerk-herne.example.org/laden.jpg" in after
    assert after.endswith("---\nDie Läden öffnen im Mai.\n\nMehr beim *Sommerfest*.\n")
    assert "\r" not in after
    stored = _stored(desk, number)
    assert stored.link == "https://quartierswerk-herne.example.org/"
    assert sorted(stored.topics) == ["netzwerk", "partner"]
    assert "<em>Sommerfest</em>" in stored.body_html
    assert stored.published_at.date().isoformat() in ("2022-03-04", "2022-03-05")


def test_unticking_every_topic_removes_them_and_a_field_not_sent_stays(desk: Site) -> None:
    number = item_id(desk, PARTNER)
    path = _file(desk, PARTNER)
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit?lang=de",
            data={"csrf": desk_csrf(client), "topics": ""},
        )
    assert answer.status_code == 303, answer.text
    after = path.read_text(encoding="utf-8")
    assert "topics:" not in after
    assert "link: https://netzwerk-quartier.example.org/partner/quartierswerk-herne" in after
    assert _stored(desk, number).topics == []


def test_the_preview_shows_the_item_as_the_issue_will_and_saves_nothing(
    desk: Site, tmp_path: Path
) -> None:
    number = item_id(desk, PARTNER)
    path = _file(desk, PARTNER)
    before = path.read_bytes()
    stored_before = _stored(desk, number)
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit?lang=de",
            data={
                "csrf": desk_csrf(client),
                "title": "Quartierswerk Herne: Läden für die Kultur",
                "body": "Ein **neuer** Absatz.",
                "preview": "yes",
            },
        )
        refused = client.post(
            f"/desk/items/{number}/edit?lang=de",
            data={"csrf": desk_csrf(client), "title": "", "preview": "yes"},
        )
    assert answer.status_code == 200
    frames = re.findall(r'<iframe class="(phone|desktop)" srcdoc="([^"]*)"', answer.text)
    assert [width for width, _doc in frames] == ["phone", "desktop"]
    shown = html.unescape(frames[0][1])
    assert "Quartierswerk Herne: Läden für die Kultur" in shown
    assert "Neue Partner" in shown  # the issue's own section heading
    # An item with a link reads on at its link: the issue shows no body for it.
    assert "Weiterlesen" in shown and "<strong>neuer</strong>" not in shown
    # The form keeps what was typed; nothing is written or stored.
    assert _input_value(answer.text, "title") == "Quartierswerk Herne: Läden für die Kultur"
    assert path.read_bytes() == before
    assert _stored(desk, number).title == stored_before.title
    # A preview checks as saving does: an error shows beside its field, and no preview.
    assert refused.status_code == 400 and "srcdoc" not in refused.text
    assert 'id="title" name="title" value="" required aria-describedby="title-error"' in (
        refused.text
    )


def test_the_preview_renders_in_the_browser_under_the_desks_policy(
    desk: Site, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as page:
        sign_in_browser(page, desk)
        page.call("Page.navigate", url=f"{desk.url}/desk/items/new?kind=news&lang=de")
        page.wait_for("document.readyState === 'complete' && !!document.querySelector('#title')")
        page.evaluate(
            "document.querySelector('#title').value = 'Lesecafé im Quartier';"
            "document.querySelector('#summary').value = 'Jeden Mittwoch wird vorgelesen.';"
            "document.querySelector('#body').value = 'Mit *Kuchen*.';"
            "document.querySelector('#image').value = 'media/quartierswerk-herne.jpg';"
            "document.querySelector('#image_alt').value = 'Ein Ladenlokal';"
            "document.querySelector('button[name=preview]').click();"
        )
        page.wait_for("!!document.querySelector('iframe.desktop')")
        page.wait_for(
            "(() => { const d = document.querySelector('iframe.desktop').contentDocument;"
            " return d && d.body && d.body.innerText.includes('Lesecafé im Quartier'); })()"
        )
        emphasis = page.evaluate(
            "document.querySelector('iframe.desktop').contentDocument.querySelector('em')"
            ".textContent"
        )
        page.wait_for(
            "document.querySelector('iframe.desktop').contentDocument"
            ".querySelector('img[alt=\"Ein Ladenlokal\"]').complete"
        )
        picture = page.evaluate(
            "(() => { const d = document.querySelector('iframe.desktop').contentDocument;"
            " const i = d.querySelector('img[alt=\"Ein Ladenlokal\"]');"
            " return i.complete ? i.naturalWidth : -1; })()"
        )
    assert emphasis == "Kuchen"
    assert picture == 1200  # the content folder's picture, from this server's /media/
    assert not [p for p in desk.project.content_dir.iterdir() if "lesecafe" in p.name]
