"""Every desk action needs a session and its form token; with both, the queue moves."""

from __future__ import annotations

import pytest

from pipeline.tokens import make_form_token
from tests.desk.conftest import desk_csrf, item_id, item_state, signed_in
from tests.web.conftest import SECRET_KEY, Site

ITEM = "folder:2027-03-04-werkstatt-wuppertal.md"
PAGES = [
    "/desk",
    "/desk/items/new",
    "/desk/items/{id}/edit",
    "/desk/issue",
    "/desk/issue/preview/de",
]
POSTS = [
    "/desk/items/{id}/state/hold",
    "/desk/items/{id}/state/drop",
    "/desk/items/{id}/state/approve",
    "/desk/items/new",
    "/desk/items/{id}/edit",
    "/desk/issue/approve",
    "/desk/issue/test",
    "/desk/sign-out",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_strangers_to_the_sign_in_form(desk: Site, path: str) -> None:
    with desk.client() as client:
        answer = client.get(path.format(id=item_id(desk, ITEM)))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/desk/sign-in")


@pytest.mark.parametrize("path", POSTS)
def test_actions_without_a_session_are_refused_and_change_nothing(desk: Site, path: str) -> None:
    number = item_id(desk, ITEM)
    files = sorted(desk.project.content_dir.iterdir())
    with desk.client() as client:
        answer = client.post(path.format(id=number), data={"title": "x", "summary": "y"})
    assert answer.status_code == 401
    assert item_state(desk, number) == "queued"
    assert sorted(desk.project.content_dir.iterdir()) == files


@pytest.mark.parametrize("path", POSTS)
def test_actions_without_the_form_token_are_refused(desk: Site, path: str) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        answer = client.post(path.format(id=number), data={"csrf": "forged", "title": "x"})
        assert answer.status_code == 403
        assert client.get("/desk").status_code == 200  # still signed in
    assert item_state(desk, number) == "queued"
    assert desk.mails_to("redaktion@netzwerk-quartier.example.org")[1:] == []


def test_pages_open_for_a_signed_in_editor(desk: Site) -> None:
    with signed_in(desk) as client:
        for path in PAGES:
            answer = client.get(path.format(id=item_id(desk, ITEM)))
            assert answer.status_code == 200, path


def test_hold_release_approve_and_drop_move_the_item(desk: Site) -> None:
    number = item_id(desk, ITEM)
    with signed_in(desk) as client:
        csrf = desk_csrf(client)
        for action, state in [
            ("hold", "held"),
            ("release", "queued"),
            ("approve", "approved"),
            ("drop", "dropped"),
        ]:
            # A drop is confirmed on its own page, which posts `confirm`.
            data = {"csrf": csrf, "confirm": "yes"} if action == "drop" else {"csrf": csrf}
            answer = client.post(f"/desk/items/{number}/state/{action}", data=data)
            assert answer.status_code == 303, answer.text
            assert item_state(desk, number) == state
        refused = client.post(f"/desk/items/{number}/state/release?lang=en", data={"csrf": csrf})
        assert refused.status_code == 409
        assert "cannot release this item" in refused.text
        assert item_state(desk, number) == "dropped"


def test_the_queue_shows_state_kind_source_and_date(desk: Site) -> None:
    with signed_in(desk) as client:
        page = client.get("/desk?lang=en").text
        german = client.get("/desk?lang=de").text
    assert "Queued" in page
    assert "Event" in page
    assert "Content folder" in page
    assert "2027-03-04-werkstatt-wuppertal.md" in page
    # The local day of a file dated 2022-03-01 (not UTC's day before), and an event's start
    # with its local time, as each language writes them.
    assert '<time datetime="2022-03-01">1 Mar 2022</time>' in page
    assert '<time datetime="2027-03-04T18:00+01:00">4 Mar 2027, 18:00</time>' in page
    assert '<time datetime="2022-03-01">01.03.2022</time>' in german
    assert '<time datetime="2027-03-04T18:00+01:00">04.03.2027, 18:00</time>' in german


def test_signing_out_ends_the_session(desk: Site) -> None:
    with signed_in(desk) as client:
        answer = client.post("/desk/sign-out", data={"csrf": desk_csrf(client)})
        assert answer.status_code == 303
        assert 'desk_session=""' in answer.headers["set-cookie"]


def test_a_form_token_of_another_editor_is_refused(desk: Site) -> None:
    number = item_id(desk, ITEM)
    foreign = make_form_token(SECRET_KEY, "/desk#someone@example.org")
    with signed_in(desk) as client:
        answer = client.post(f"/desk/items/{number}/state/hold", data={"csrf": foreign})
    assert answer.status_code == 403
    assert item_state(desk, number) == "queued"
