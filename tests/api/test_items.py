"""Items through the API as a partner's system and an editor's script meet it: sent in as
a submission waiting for an editor, every wrong field named at once, links into a local
network refused, repeats and retries one item, the queue listed and moved."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pipeline.db import items
from tests.api.conftest import Api
from tests.web.conftest import outbox_files

EDITOR = "redaktion@netzwerk-quartier.example.org"
EVENT: dict[str, Any] = {
    "kind": "event",
    "title": "Quartiersfest am Vinetaplatz",
    "summary": "Musik, Essen und Spiele für alle Nachbarinnen und Nachbarn.",
    "link": "https://partner.example.org/quartiersfest",
    "topics": ["veranstaltungen"],
    "event": {"start": "2027-06-12T15:00", "end": "2027-06-12T20:00", "location": "Vinetaplatz"},
    "body": "Alle sind **willkommen**.<script>alert(1)</script>",
}
REPORT: dict[str, Any] = {
    "kind": "report",
    "title": "Neuer Gemeinschaftsgarten in Gaarden",
    "summary": "Im Stadtteil Gaarden hat ein Gemeinschaftsgarten eröffnet.",
}


def _stored_keys(api: Api) -> list[str]:
    with api.site.engine.connect() as connection:
        return list(connection.execute(sa.select(items.c.key)).scalars())


def test_an_item_sent_in_waits_for_an_editor_who_moves_it(api: Api) -> None:
    token = api.token("items:write", name="stadtteilbuero-nord")
    with api.client(token) as client:
        answer = client.post("/items", json=EVENT)
        assert answer.status_code == 201, answer.text
        item = answer.json()
        assert answer.headers["location"] == f"/api/v1/items/{item['id']}"
        assert item["state"] == "submitted"
        assert item["source"] == "API: stadtteilbuero-nord"
        # 15:00 on the site's clock (Europe/Berlin, summer time) is 13:00 UTC.
        assert item["event"]["start"] == "2027-06-12T13:00:00Z"
        assert item["event"]["location"] == "Vinetaplatz"
        assert "<strong>willkommen</strong>" in item["body_html"]
        assert "<script" not in item["body_html"]
        # Visible in the queue at once, and nowhere in the content folder.
        listed = client.get("/items").json()["data"]
        assert [entry["id"] for entry in listed] == [item["id"]]
        assert not list(api.site.project.content_dir.glob("*quartiersfest*"))

        notice = api.site.wait_for_mail(EDITOR)
        assert notice["Subject"].strip() == "Eingesandt: Quartiersfest am Vinetaplatz"
        # As a mail client reads the file: one Subject line, 7-bit headers.
        [raw] = [path.read_bytes() for path in outbox_files(api.site.project.outbox)]
        head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        assert head.isascii()
        assert [line for line in head.split(b"\n") if line.startswith(b"Subject:")] == [
            b"Subject: Eingesandt: Quartiersfest am Vinetaplatz"
        ]
        text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert f"/desk/items/{item['id']}/edit" in text

        path = f"/items/{item['id']}"
        assert client.post(f"{path}/approve").json()["state"] == "approved"
        assert client.post(f"{path}/hold").json()["state"] == "held"
        assert client.post(f"{path}/drop").json()["state"] == "dropped"
        refused = client.post(f"{path}/approve")
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert "cannot approve this item: it is dropped" in refused.json()["detail"]
        assert client.get(path).json()["state"] == "dropped"
        assert (
            client.get("/items", params={"state": "dropped"}).json()["data"][0]["id"]
            == (item["id"])
        )


def test_every_wrong_field_is_named_at_once_and_nothing_is_stored(sqlite_api: Api) -> None:
    token = sqlite_api.token("items:write")
    bad = {
        "kind": "event",
        "title": "",
        "sumary": "Ein Tippfehler",
        "summary": "Ein Termin",
        "image": "https://partner.example.org/bild.jpg",
        "link": "http://192.168.178.1/termine",
        "event": {"start": "2027-06-12T15:00", "end": "2027-06-12T14:00"},
    }
    with sqlite_api.client(token) as client:
        answer = client.post("/items", json=bad)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    named = {error["field"]: error["message"] for error in answer.json()["errors"]}
    assert set(named) == {
        "title",
        "sumary",
        "link",
        "image_alt",
        "event.end",
        "event.location",
    }, named
    assert "public web" in named["link"]
    assert "text alternative" in named["image_alt"]
    assert "ends before it starts" in named["event.end"]
    assert all(error["location"] == "body" for error in answer.json()["errors"])
    assert _stored_keys(sqlite_api) == []


def test_links_into_a_local_network_are_refused_in_every_spelling(sqlite_api: Api) -> None:
    token = sqlite_api.token("items:write")
    links = [
        "http://localhost:8080/",
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://[::ffff:10.0.0.1]/",
        "http://nas.local/bilder",
        "http://fritz.box/",
        "http://intranet/news",
        "http://169.254.169.254/latest/meta-data",
    ]
    with sqlite_api.client(token) as client:
        for link in links:
            online = {"start": "2027-06-12T15:00", "online_url": link}
            answer = client.post("/items", json=EVENT | {"link": link, "event": online})
            assert answer.status_code == 422, (link, answer.text)
            named = {error["field"] for error in answer.json()["errors"]}
            assert named == {"link", "event.online_url"}, (link, named)
    assert _stored_keys(sqlite_api) == []


def test_the_same_news_sent_twice_is_one_item_and_a_retry_gets_the_first_answer(
    sqlite_api: Api,
) -> None:
    token = sqlite_api.token("items:write")
    with sqlite_api.client(token) as client:
        first = client.post("/items", json=REPORT)
        again = client.post("/items", json=REPORT)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]

        key = {"Idempotency-Key": "partner-system-4711"}
        made = client.post("/items", json=EVENT, headers=key)
        retried = client.post("/items", json=EVENT, headers=key)
        assert made.status_code == retried.status_code == 201
        assert retried.headers["idempotent-replayed"] == "true"
        assert retried.json() == made.json()
        other = client.post("/items", json=EVENT | {"title": "Anders"}, headers=key)
        assert other.status_code == 422
        assert other.json()["errors"][0]["field"] == "idempotency-key"
    assert len(_stored_keys(sqlite_api)) == 2
    sqlite_api.site.wait_for_mail(EDITOR, count=2)  # one notice each, not one a request


def test_a_chosen_date_is_kept_and_topics_must_be_known(sqlite_api: Api) -> None:
    token = sqlite_api.token("items:write")
    with sqlite_api.client(token) as client:
        dated = client.post("/items", json=REPORT | {"date": "2026-11-30"})
        assert dated.status_code == 201, dated.text
        # Midnight of that day on the site's clock (Berlin, winter time).
        assert dated.json()["published_at"] == "2026-11-29T23:00:00Z"
        unknown = client.post("/items", json=REPORT | {"topics": ["gibt-es-nicht"]})
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["field"] == "topics"
        assert "veranstaltungen" in unknown.json()["errors"][0]["message"]
        not_a_submission = client.post("/items", json=REPORT | {"kind": "intro"})
        assert not_a_submission.status_code == 422


def test_scopes_part_readers_from_writers(sqlite_api: Api) -> None:
    writer = sqlite_api.token("items:write")
    reader = sqlite_api.token("items:read")
    stranger = sqlite_api.token("subscribers:write")
    with sqlite_api.client(writer) as client:
        item_id = client.post("/items", json=REPORT).json()["id"]
    with sqlite_api.client(reader) as client:
        assert client.get(f"/items/{item_id}").status_code == 200
        assert client.post("/items", json=EVENT).status_code == 403
        assert client.post(f"/items/{item_id}/approve").status_code == 403
        assert client.get("/items/999999").status_code == 404
    with sqlite_api.client(stranger) as client:
        assert client.get("/items").status_code == 403
    with sqlite_api.client(writer) as client:
        assert client.get(f"/items/{item_id}").json()["state"] == "submitted"


def test_the_queue_is_filtered_and_paged_without_repeats(sqlite_api: Api) -> None:
    token = sqlite_api.token("items:write")
    with sqlite_api.client(token) as client:
        made = [
            client.post("/items", json=REPORT | {"title": f"Bericht {n}"}).json()["id"]
            for n in range(3)
        ]
        made.append(client.post("/items", json=EVENT).json()["id"])
        client.post(f"/items/{made[0]}/approve")
        first = client.get("/items", params={"limit": 2}).json()
        second = client.get("/items", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        assert [i["id"] for i in first["data"] + second["data"]] == made
        assert second["next_cursor"] is None
        submitted = client.get("/items", params={"state": "submitted"}).json()["data"]
        assert [i["id"] for i in submitted] == made[1:]
        both = client.get("/items", params=[("state", "approved"), ("state", "submitted")])
        assert len(both.json()["data"]) == 4
        events = client.get("/items", params={"kind": "event"}).json()["data"]
        assert [i["id"] for i in events] == [made[3]]
        tagged = client.get("/items", params={"topic": "veranstaltungen"}).json()["data"]
        assert [i["id"] for i in tagged] == [made[3]]
        assert client.get("/items", params={"state": "sent"}).json()["data"] == []
        assert client.get("/items", params={"state": "verschollen"}).status_code == 422


def test_what_no_mail_or_database_can_hold_is_named_not_a_500(api: Api) -> None:
    """Found by the fuzzer: a NUL that PostgreSQL refuses, a carriage return that would
    split the editors' mail's Subject, a year no clock holds once moved to UTC."""
    token = api.token("items:write")
    cases = {
        "summary": REPORT | {"summary": "Kurz\x00"},
        "title": REPORT | {"title": "Titel\rBcc: alle@example.org"},
        "date": REPORT | {"date": "0001-01-01"},
        "event.start": EVENT | {"event": {"start": "9999-12-31T23:59", "location": "Kiel"}},
    }
    with api.client(token) as client:
        for field, body in cases.items():
            answer = client.post("/items", json=body)
            assert answer.status_code == 422, (field, answer.text)
            assert [error["field"] for error in answer.json()["errors"]] == [field]
        found = client.get("/items", params={"topic": "netz\x00werk"})
        assert found.status_code == 422
        [error] = found.json()["errors"]
        assert (error["field"], error["location"]) == ("topic", "query")
    assert _stored_keys(api) == []
