"""Adding and editing items: files in the content folder, validated like the folder."""

from __future__ import annotations

from datetime import UTC, datetime

import frontmatter
import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import items
from pipeline.queue.store import upsert
from tests.desk.conftest import desk_csrf, item_id, signed_in
from tests.web.conftest import Site

PARTNER = "2022-03-02-partner-wohnen-herne.md"
EVENT = "2027-03-04-werkstatt-wuppertal.md"


def _stored(site: Site, key: str) -> sa.Row[tuple[object, ...]]:
    with site.engine.connect() as connection:
        return connection.execute(sa.select(items).where(items.c.key == key)).one()


def test_an_edit_is_written_back_to_its_file_and_the_store(desk: Site) -> None:
    path = desk.project.content_dir / PARTNER
    before = frontmatter.loads(path.read_text(encoding="utf-8"))
    body_before = path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    number = item_id(desk, f"folder:{PARTNER}")
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit",
            data={
                "csrf": desk_csrf(client),
                "title": "Neuer Partner: Quartierswerk Herne",
                "summary": "Die Genossenschaft öffnet Ladenlokale für die Nachbarschaft.",
                "kind": "partner",
                "image_alt": "Ein Ladenlokal mit einer Ausstellung",
            },
        )
    assert answer.status_code == 303, answer.text
    after = frontmatter.loads(path.read_text(encoding="utf-8"))
    assert after["title"] == "Neuer Partner: Quartierswerk Herne"
    assert after["image_alt"] == "Ein Ladenlokal mit einer Ausstellung"
    for key in ("link", "image", "topics", "date", "status"):
        assert after[key] == before[key], key
    assert list(after.metadata) == list(before.metadata)
    assert path.read_text(encoding="utf-8").split("\n---\n", 1)[1] == body_before
    stored = _stored(desk, f"folder:{PARTNER}")
    assert stored.title == "Neuer Partner: Quartierswerk Herne"
    assert stored.image_alt == "Ein Ladenlokal mit einer Ausstellung"


def test_an_event_edit_keeps_local_times_and_moves_the_event(desk: Site) -> None:
    path = desk.project.content_dir / EVENT
    number = item_id(desk, f"folder:{EVENT}")
    with signed_in(desk) as client:
        form = client.get(f"/desk/items/{number}/edit").text
        assert 'value="2027-03-04T18:00"' in form
        answer = client.post(
            f"/desk/items/{number}/edit",
            data={
                "csrf": desk_csrf(client),
                "title": "Quartierswerkstatt Wuppertal",
                "summary": "Rundgang und Diskussion.",
                "kind": "event",
                "event_start": "2027-03-05T17:30",
                "event_end": "2027-03-05T19:00",
                "event_location": "Quartiershalle Wuppertal",
            },
        )
    assert answer.status_code == 303, answer.text
    event = frontmatter.loads(path.read_text(encoding="utf-8"))["event"]
    assert event["location"] == "Quartiershalle Wuppertal"
    assert str(event["start"]).startswith("2027-03-05 17:30")
    stored = _stored(desk, f"folder:{EVENT}")
    assert stored.event_start == datetime(2027, 3, 5, 16, 30, tzinfo=UTC)  # 17:30 in Berlin


def test_an_invalid_edit_shows_errors_next_to_the_fields_and_keeps_the_file(desk: Site) -> None:
    path = desk.project.content_dir / EVENT
    text = path.read_text(encoding="utf-8")
    number = item_id(desk, f"folder:{EVENT}")
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit?lang=en",
            data={
                "csrf": desk_csrf(client),
                "title": "",
                "summary": "Rundgang",
                "kind": "event",
                "event_start": "2027-03-05T17:30",
                "event_end": "2027-03-05T15:00",
                "event_location": "Halle",
            },
        )
    assert answer.status_code == 400
    assert 'id="title-error">Please fill in this field.' in answer.text
    assert 'aria-describedby="title-error"' in answer.text
    assert 'id="event_end-error">The event ends before it starts.' in answer.text
    assert path.read_text(encoding="utf-8") == text


def test_a_feed_item_is_edited_at_its_source(desk: Site) -> None:
    feed_item = CollectedItem(
        key="feed:https://example.org/feed#1",
        source="Partnerblog",
        kind="news",
        title="Aus dem Partnerblog",
        summary="Ein Beitrag aus einem Feed.",
        body_html="",
        link="https://example.org/1",
        image=None,
        image_alt=None,
        topics=(),
        published_at=datetime.now(UTC),
        event=None,
        ready=True,
    )
    with desk.engine.begin() as connection:
        upsert(connection, [feed_item], datetime.now(UTC))
    number = item_id(desk, feed_item.key)
    with signed_in(desk) as client:
        page = client.get(f"/desk/items/{number}/edit?lang=en").text
        assert "edited at its source" in page
        assert 'name="title"' not in page
        answer = client.post(
            f"/desk/items/{number}/edit?lang=en",
            data={"csrf": desk_csrf(client), "title": "Anders", "summary": "x", "kind": "news"},
        )
        assert answer.status_code == 400
        hold = client.post(f"/desk/items/{number}/state/hold", data={"csrf": desk_csrf(client)})
        assert hold.status_code == 303
    stored = _stored(desk, feed_item.key)
    assert (stored.title, stored.state) == ("Aus dem Partnerblog", "held")


def test_an_event_added_through_the_form_is_written_and_queued(desk: Site) -> None:
    with signed_in(desk) as client:
        answer = client.post(
            "/desk/items/new",
            data={
                "csrf": desk_csrf(client),
                "title": "Sommerfest im Quartier",
                "kind": "event",
                "date": "2026-11-25",
                "summary": "Alle Partner feiern gemeinsam.",
                "topics": "veranstaltungen",
                "event_start": "2027-06-20T15:00",
                "event_location": "Stadtteilpark",
                "body": "Mit **Musik** und Kuchen.",
            },
        )
    assert answer.status_code == 303, answer.text
    path = desk.project.content_dir / "2026-11-25-sommerfest-im-quartier.md"
    written = frontmatter.loads(path.read_text(encoding="utf-8"))
    assert written["kind"] == "event"
    assert written["topics"] == ["veranstaltungen"]
    assert written["event"]["location"] == "Stadtteilpark"
    assert written.content == "Mit **Musik** und Kuchen."
    stored = _stored(desk, "folder:2026-11-25-sommerfest-im-quartier.md")
    assert stored.state == "queued"
    assert stored.event_start == datetime(2027, 6, 20, 13, 0, tzinfo=UTC)


def test_an_invalid_new_item_shows_each_error_next_to_its_field(desk: Site) -> None:
    files = sorted(desk.project.content_dir.iterdir())
    with signed_in(desk) as client:
        answer = client.post(
            "/desk/items/new?lang=en",
            data={
                "csrf": desk_csrf(client),
                "title": "Ein Termin ohne Zeit",
                "kind": "event",
                "summary": "",
                "image": "https://example.org/bild.jpg",
                "link": "kein-link",
            },
        )
    assert answer.status_code == 400
    page = answer.text
    assert 'id="summary-error">Please fill in this field.' in page
    assert 'id="link-error">Please enter a full web address' in page
    assert 'aria-describedby="link-error"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="Ein Termin ohne Zeit"' in page  # what was typed is kept
    assert sorted(desk.project.content_dir.iterdir()) == files


def test_model_level_rules_land_next_to_their_fields(desk: Site) -> None:
    with signed_in(desk) as client:
        answer = client.post(
            "/desk/items/new?lang=de",
            data={
                "csrf": desk_csrf(client),
                "title": "Termin",
                "kind": "event",
                "summary": "Kurz.",
                "image": "https://example.org/bild.jpg",
            },
        )
        assert answer.status_code == 400
        assert 'id="event_start-error"' in answer.text
        answer = client.post(
            "/desk/items/new?lang=de",
            data={
                "csrf": desk_csrf(client),
                "title": "Termin",
                "kind": "news",
                "summary": "Kurz.",
                "image": "https://example.org/bild.jpg",
            },
        )
        assert answer.status_code == 400
        assert 'id="image_alt-error"' in answer.text
