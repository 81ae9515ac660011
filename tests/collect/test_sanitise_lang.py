"""`lang` on a passage in another language is kept when it is a language tag (WCAG 3.1.2)."""

from __future__ import annotations

import html

import pytest

from pipeline.collect.sanitize import sanitise_html


@pytest.mark.parametrize(
    "tag", ["en", "en-GB", "tr", "zh-Hant-TW", "de-CH-1996", "sgn-ase", "x-klingon"]
)
def test_a_language_tag_is_kept(tag: str) -> None:
    cleaned = sanitise_html(f'<p>Das <span lang="{tag}">workshop</span> beginnt.</p>')
    assert f'<span lang="{tag}">workshop</span>' in cleaned


@pytest.mark.parametrize(
    "value",
    ['de"><script>alert(1)</script>', "en_US", "e", "toolongtag1", "en--gb", "\u212aa", ""],
)
def test_anything_else_in_lang_is_dropped_and_the_text_kept(value: str) -> None:
    cleaned = sanitise_html(f'<p lang="{html.escape(value)}">Text</p>')
    assert cleaned == "<p>Text</p>"
