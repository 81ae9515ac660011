"""The item form reports every error at once, each beside its field and in a summary
that links to the fields."""

from __future__ import annotations

import re

from tests.desk.conftest import desk_csrf, item_id, signed_in
from tests.web.conftest import Site

PARTNER = "folder:2022-03-02-partner-wohnen-herne.md"


def _input_of(page: str, name: str) -> str:
    found = re.search(rf'<(?:input|textarea|select|fieldset)[^>]* id="{name}"[^>]*>', page)
    assert found, name
    return found.group(0)


def _summary_links(page: str) -> list[str]:
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([a-z_]+)">', summary)


def test_every_error_of_a_new_item_is_reported_in_one_round(desk: Site) -> None:
    files = sorted(desk.project.content_dir.iterdir())
    with signed_in(desk) as client:
        answer = client.post(
            "/desk/items/new?lang=en",
            data={
                "csrf": desk_csrf(client),
                "title": "",
                "kind": "event",
                "summary": "",
                "date": "2026-12-03T00:00:00",
                "link": "kein-link",
                "image": "https://example.org/bild.jpg",
            },
        )
    assert answer.status_code == 400
    page = answer.text
    wrong = ["title", "date", "summary", "link", "image_alt", "event_start", "event_location"]
    for name in wrong:
        tag = _input_of(page, name)
        assert 'aria-invalid="true"' in tag, tag
        described = re.search(r'aria-describedby="([^"]+)"', tag)
        assert described and f"{name}-error" in described.group(1).split(), tag
        assert f'id="{name}-error"' in page
    assert _summary_links(page) == wrong  # in the order of the form
    assert "Title: Please fill in this field." in page
    assert "Date: Please enter a date." in page
    assert 'aria-invalid="true"' not in _input_of(page, "kind")
    assert sorted(desk.project.content_dir.iterdir()) == files


def test_every_error_of_an_edit_is_reported_in_german(desk: Site) -> None:
    number = item_id(desk, PARTNER)
    path = desk.project.content_dir / PARTNER.removeprefix("folder:")
    before = path.read_bytes()
    with signed_in(desk) as client:
        answer = client.post(
            f"/desk/items/{number}/edit?lang=de",
            data={
                "csrf": desk_csrf(client),
                "title": "",
                "summary": "",
                "kind": "partner",
                "image_alt": "",
            },
        )
    assert answer.status_code == 400
    # The partner's file has an image; the emptied alt text is the third error.
    assert _summary_links(answer.text) == ["title", "summary", "image_alt"]
    assert "Bitte korrigieren Sie diese Felder:" in answer.text
    assert path.read_bytes() == before
