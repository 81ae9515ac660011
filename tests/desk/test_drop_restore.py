"""Dropping from the desk is asked first, says what it did and can be undone; the queue
lists what editors dropped, with "Restore"; every action lands on the queue with a notice."""

from __future__ import annotations

import re

import httpx
import pytest

from pipeline.web.desk import queue
from tests.desk.conftest import desk_csrf, item_id, item_state, signed_in
from tests.web.conftest import Site

ITEM = "folder:2027-03-04-werkstatt-wuppertal.md"


def _notice(page: str) -> str:
    found = re.search(r'<div role="status">(.*?)</div>\n', page, re.S)
    assert found, page
    return re.sub(r"<[^>]+>", " ", found.group(1))


def _follow(client: httpx.Client, answer: httpx.Response) -> httpx.Response:
    assert answer.status_code == 303, answer.text
    return client.get(answer.headers["location"])


def test_drop_asks_first_and_a_post_without_confirming_drops_nothing(desk: Site) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        queue = client.get("/desk?lang=en").text
        assert f'href="/desk/items/{number}/drop?lang=en"' in queue
        asked = client.get(f"/desk/items/{number}/drop?lang=en")
        assert asked.status_code == 200
        assert "Drop this item?" in asked.text and 'name="confirm" value="yes"' in asked.text
        assert 'class="danger"' in asked.text

        unconfirmed = client.post(
            f"/desk/items/{number}/state/drop?lang=en", data={"csrf": desk_csrf(client)}
        )
        assert unconfirmed.status_code == 303
        assert unconfirmed.headers["location"] == f"/desk/items/{number}/drop?lang=en"
    assert item_state(desk, number) == "queued"


def test_a_dropped_item_is_listed_and_restored_with_notices(desk: Site) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        client.post(f"/desk/items/{number}/state/hold", data={"csrf": csrf})
        dropped = _follow(
            client,
            client.post(
                f"/desk/items/{number}/state/drop?lang=en", data={"csrf": csrf, "confirm": "yes"}
            ),
        )
        assert item_state(desk, number) == "dropped"
        notice = _notice(dropped.text)
        assert "Dropped:" in notice and "Quartierswerkstatt Wuppertal" in notice
        assert f'action="/desk/items/{number}/state/restore?lang=en"' in dropped.text
        listed = dropped.text.split('id="dropped"', 1)[1]
        assert f'id="dropped-{number}"' in listed and "Restore" in listed

        restored = _follow(
            client,
            client.post(f"/desk/items/{number}/state/restore?lang=en", data={"csrf": csrf}),
        )
        assert item_state(desk, number) == "held"  # where it was dropped from
        assert "Restored:" in _notice(restored.text)
        assert 'id="dropped"' not in restored.text


def test_every_action_lands_with_its_notice_in_german(desk: Site) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        for action, done, said in [
            ("hold", "held", "Zurückgehalten"),
            ("release", "released", "Wieder eingereiht"),
            ("approve", "approved", "Freigegeben"),
        ]:
            path = f"/desk/items/{number}/state/{action}?lang=de"
            answer = client.post(path, data={"csrf": csrf})
            assert answer.headers["location"] == f"/desk?lang=de&done={done}&item={number}"
            assert said in _notice(_follow(client, answer).text)
        dropped = client.post(
            f"/desk/items/{number}/state/drop?lang=de", data={"csrf": csrf, "confirm": "yes"}
        )
        assert "Verworfen" in (notice := _notice(_follow(client, dropped).text))
        assert "Rückgängig" in notice


def test_a_notice_never_shows_request_text(desk: Site) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        forged = client.get(f"/desk?lang=en&done=<b>pwned</b>&item={number}").text
        unknown = client.get("/desk?lang=en&done=held&item=99999999999999999999").text
    assert "pwned" not in forged and _notice(forged).strip() == ""
    assert _notice(unknown).strip() == ""


def test_adding_and_saving_land_on_the_queue_with_a_notice(desk: Site) -> None:
    partner = item_id(desk, "folder:2022-03-02-partner-wohnen-herne.md")
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        added = client.post(
            "/desk/items/new?lang=de",
            data={
                "csrf": csrf,
                "title": "Nachbarschaftsfest am Bahnhof",
                "summary": "Ein Fest für alle im Quartier.",
                "kind": "news",
                "date": "2026-12-01",
            },
        )
        new = item_id(desk, "folder:2026-12-01-nachbarschaftsfest-am-bahnhof.md")
        assert added.headers["location"] == f"/desk?lang=de&done=added&item={new}"
        notice = _notice(_follow(client, added).text)
        assert "Hinzugefügt:" in notice and "Nachbarschaftsfest am Bahnhof" in notice

        saved = client.post(
            f"/desk/items/{partner}/edit?lang=de",
            data={
                "csrf": csrf,
                "title": "Neuer Partner: Quartierswerk Herne",
                "summary": "Die Genossenschaft öffnet Ladenlokale.",
                "kind": "partner",
                "image_alt": "Ein Ladenlokal",
            },
        )
        notice = _notice(_follow(client, saved).text)
    assert "Gespeichert:" in notice and "Neuer Partner: Quartierswerk Herne" in notice
    assert "Rückgängig" not in notice


def test_a_dropped_items_page_offers_restore(desk: Site) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        client.post(f"/desk/items/{number}/state/drop", data={"csrf": csrf, "confirm": "yes"})
        page = client.get(f"/desk/items/{number}/edit?lang=en").text
        restored = client.post(f"/desk/items/{number}/state/restore", data={"csrf": csrf})
    assert f'action="/desk/items/{number}/state/restore?lang=en"' in page
    assert f"/desk/items/{number}/drop" not in page
    assert restored.status_code == 303
    assert item_state(desk, number) == "queued"


def test_the_dropped_list_shows_the_latest_drops(
    desk: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue, "DROPPED_SHOWN", 2)
    keys = [ITEM, "folder:2022-03-02-partner-wohnen-herne.md", "folder:2022-03-01-editorial.md"]
    numbers = [item_id(desk, key) for key in keys]
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        for number in numbers:
            client.post(f"/desk/items/{number}/state/drop", data={"csrf": csrf, "confirm": "yes"})
        listed = client.get("/desk?lang=en").text.split('id="dropped"', 1)[1]
    shown = [int(n) for n in re.findall(r'id="dropped-(\d+)"', listed)]
    assert shown == [numbers[2], numbers[1]]  # the latest first
    assert "These are the latest 2;" in listed
