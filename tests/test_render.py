"""The rendered sample issue: every title, German dates, under Gmail's clipping size."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.conftest import Project
from tests.test_content_folder import SAMPLE_TITLES

GMAIL_CLIP_BYTES = 102 * 1024


@pytest.fixture
def preview_dir(ready_project: Project) -> Path:
    out = ready_project.root / "preview"
    ready_project.run("preview", "--out", str(out))
    return out


def test_preview_holds_every_sample_title(preview_dir: Path) -> None:
    page = html.unescape((preview_dir / "issue-1.de.html").read_text("utf-8"))
    for title in SAMPLE_TITLES:
        assert title in page


def test_german_issue_has_german_dates_headings_and_lang(preview_dir: Path) -> None:
    page = html.unescape((preview_dir / "issue-1.de.html").read_text("utf-8"))
    assert '<html lang="de"' in page
    assert "Donnerstag, 4. März 2027, 18:00–20:00 Uhr" in page
    assert "Donnerstag, 15. April 2027, 10:00–12:30 Uhr" in page
    for heading in ("Berichte", "Neue Partner", "Termine", "Abbestellen"):
        assert heading in page


def test_english_variant_is_english(preview_dir: Path) -> None:
    page = html.unescape((preview_dir / "issue-1.en.html").read_text("utf-8"))
    assert '<html lang="en"' in page
    # CLDR's English interval uses a thin space around the dash and a narrow one before PM.
    assert "Thursday, March 4, 2027, 6:00\u2009–\u20098:00\u202fPM" in page
    assert "Upcoming events" in page


def test_issue_is_under_gmails_clipping_size(preview_dir: Path) -> None:
    for path in preview_dir.glob("issue-1.*.html"):
        assert len(path.read_bytes()) < GMAIL_CLIP_BYTES, path


def test_no_placeholder_or_template_syntax_is_left(preview_dir: Path) -> None:
    for path in preview_dir.glob("issue-1.*"):
        text = path.read_text("utf-8")
        assert "%%NL:" not in text
        assert "{{" not in text and "{%" not in text


def test_text_part_is_readable_on_its_own(preview_dir: Path) -> None:
    text = (preview_dir / "issue-1.de.txt").read_text("utf-8")
    assert not re.search(r"</?[a-z]+[ >]", text), "HTML remnants in the text part"
    assert "&amp;" not in text and "&#" not in text
    assert "BERICHTE\n========" in text
    assert "Donnerstag, 4. März 2027, 18:00–20:00 Uhr" in text
    # Links are numbered in the body and listed at the end.
    assert "Weiterlesen: [1]" in text
    assert "[1] https://netzwerk-quartier.example.org/berichte/jahresauftakt-2022" in text
    assert "Vernetzungsinitiative „Gemeinsam für das Quartier“\nMusterstraße 12" in text


def test_hostile_item_text_is_escaped_in_the_issue(ready_project: Project) -> None:
    (ready_project.content_dir / "frech.md").write_text(
        '---\ntitle: "<script>alert(1)</script> & Co"\nkind: news\ndate: 2026-11-01\n'
        'summary: "<img src=x onerror=alert(1)>"\n---\n',
        encoding="utf-8",
    )
    ready_project.run("collect")
    out = ready_project.root / "preview"
    ready_project.run("preview", "--out", str(out))
    page = (out / "issue-1.de.html").read_text("utf-8")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "<img src=x" not in page
