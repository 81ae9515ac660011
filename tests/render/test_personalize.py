"""Filling a variant's placeholders, as text and as the JSON string an API body carries."""

from __future__ import annotations

import orjson
import pytest

from pipeline.render.personalize import Personalizable, html_values, placeholder

TEMPLATE = (
    '<p class="x">Grüße, {greeting}</p>\n<a href="{unsubscribe_url}">Abmelden \\ "jetzt"</a>'
    "\t\u2028{greeting}😀"
).format(greeting=placeholder("greeting"), unsubscribe_url=placeholder("unsubscribe_url"))


@pytest.mark.parametrize(
    "greeting",
    ["Hallo Jörg,", 'Hallo "Bob" \\ Alice,', "Hallo\nZeile\u0000,", "Hallo 😀 </script>,"],
)
def test_the_json_fill_is_the_json_of_the_fill(greeting: str) -> None:
    template = Personalizable.parse(TEMPLATE)
    values = {"greeting": greeting, "unsubscribe_url": "https://example.org/u/a.b?c=1&d=2"}
    for filled in (values, html_values(values)):
        encoded = template.fill_json(filled)
        assert encoded == orjson.dumps(template.fill(filled))
        assert orjson.loads(encoded) == template.fill(filled)
