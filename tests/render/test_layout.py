"""Headless Chromium lays the sample issue out at phone and desktop widths without overflow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, Project
from tests.render.chromium import available, measure_width
from tests.web.browser import chromium


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample issue's preview in both languages, with its pictures (1200 px wide)
    copied beside it from the content folder."""
    assert available(), "headless Chromium is needed: `make test` installs it (apt chromium)"
    project = Project(tmp_path_factory.mktemp("layout"))
    shutil.copy(REPO / "config.yaml", project.config_path)
    shutil.copytree(REPO / "content", project.content_dir)
    project.run("db", "upgrade")
    project.run("collect")
    out = project.root / "out"
    project.run("preview", "--out", str(out))
    pages = [out / "issue-1.de.html", out / "issue-1.en.html"]
    for page in pages:
        pictures = re.findall(r'src="(media/[^"]+)"', page.read_text("utf-8"))
        assert len(pictures) >= 3 and all((out / picture).is_file() for picture in pictures)
    return pages


@pytest.mark.parametrize("width", [375, 800])
def test_sample_issue_fits_the_window_without_horizontal_scrolling(
    sample_pages: list[Path], width: int
) -> None:
    for page in sample_pages:
        scroll_width, client_width = measure_width(page, width)
        assert client_width == width, page.name
        assert scroll_width <= client_width, f"{page.name} at {width}px: {scroll_width}px wide"


def test_the_preview_shows_the_sample_pictures(sample_pages: list[Path], tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        page.call("Page.navigate", url=sample_pages[0].as_uri())
        page.wait_for("document.readyState === 'complete'")
        widths = page.evaluate(
            "Array.from(document.images).filter(i => i.getAttribute('src').startsWith('media/'))"
            ".map(i => i.naturalWidth)"
        )
    assert widths and all(width == 1200 for width in widths), widths
