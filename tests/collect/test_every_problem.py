"""Front matter with several problems reports all of them, the joined-field rules too."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.collect.every_problem import validate_front_matter


def _problems(data: dict[str, object]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        validate_front_matter(data)
    return [
        (error["loc"], error["msg"].removeprefix("Value error, "))
        for error in raised.value.errors()
    ]


def test_field_errors_and_the_rules_that_join_fields_come_together() -> None:
    found = _problems(
        {
            "title": "",
            "kind": "event",
            "date": "gestern",
            "summary": "Kurz.",
            "image": "https://example.org/bild.jpg",
            "sumary": "vertippt",
        }
    )
    assert [location for location, _ in found] == [
        ("title",),
        ("date", "date"),
        ("date", "datetime"),
        ("sumary",),
        (),
        (),
    ]
    assert found[4][1].startswith("image_alt: an image needs a text alternative")
    assert found[5][1].startswith("event: an item of kind event needs event.start")


def test_an_event_block_reports_its_start_and_its_missing_place() -> None:
    found = _problems(
        {"title": "T", "kind": "event", "date": "2026-12-01", "summary": "s", "event": {}}
    )
    assert found == [
        (("event", "start"), "Field required"),
        (("event",), "location: an event needs a location or an online_url"),
    ]


def test_valid_front_matter_passes() -> None:
    fields = validate_front_matter(
        {"title": "T", "kind": "news", "date": "2026-12-01", "summary": "s"}
    )
    assert fields.title == "T"


def test_a_line_break_of_any_kind_a_control_character_and_an_impossible_year_are_named() -> None:
    found = _problems(
        {
            "title": "Titel\u2028zweite Zeile",
            "kind": "news",
            "date": "0001-01-01",
            "summary": "Kurz\x00",
            "expires": "9999-12-31T23:00:00",
        }
    )
    assert found == [
        (("title",), "must be a single line"),
        (("date",), "the year must lie between 1900 and 2999"),
        (("summary",), "must not contain control characters"),
        (("expires",), "the year must lie between 1900 and 2999"),
    ]
