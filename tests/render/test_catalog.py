"""Every string the templates and the code mark for translation has a German translation."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from pipeline.render.i18n import LOCALES_DIR
from tests.conftest import REPO


def extracted_messages() -> set[str]:
    with (REPO / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    # Folders starting with "." (the virtual environment among them) are not searched.
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO, method_map=method_map, options_map=options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def german_catalog() -> dict[str, str]:
    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="de")
    return {str(m.id): str(m.string) for m in catalog if m.id}


def test_extraction_finds_the_templates_and_the_code() -> None:
    messages = extracted_messages()
    assert {"Upcoming events", "Add to calendar", "Hello %(name)s,"} <= messages


def test_every_template_string_is_translated_into_german() -> None:
    catalog = german_catalog()
    missing = sorted(m for m in extracted_messages() if not catalog.get(m))
    assert missing == []


def test_the_german_catalog_holds_no_string_nobody_uses() -> None:
    stale = sorted(set(german_catalog()) - extracted_messages())
    assert stale == []
