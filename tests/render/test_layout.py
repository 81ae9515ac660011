"""Headless Chromium lays the sample issue out at phone and desktop widths without overflow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, Project
from tests.render.chromium import available, measure_width

WIDE_PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900">'
    '<rect width="1600" height="900" fill="#7fa89c"/></svg>'
)


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample issue in both languages, its pictures swapped for local ones 1600 px wide."""
    assert available(), "headless Chromium is needed: `make test` installs it (apt chromium)"
    project = Project(tmp_path_factory.mktemp("layout"))
    shutil.copy(REPO / "config.yaml", project.config_path)
    shutil.copytree(REPO / "content", project.content_dir)
    project.run("db", "upgrade")
    project.run("collect")
    out = project.root / "out"
    project.run("preview", "--out", str(out))
    picture = out / "picture.svg"
    picture.write_text(WIDE_PICTURE, "utf-8")
    pages = []
    for name in ("issue-1.de.html", "issue-1.en.html"):
        page = (out / name).read_text("utf-8")
        page, swapped = re.subn(r'src="https://[^"]+"', f'src="{picture.as_uri()}"', page)
        assert swapped >= 3
        path = out / f"local-{name}"
        path.write_text(page, "utf-8")
        pages.append(path)
    return pages


@pytest.mark.parametrize("width", [375, 800])
def test_sample_issue_fits_the_window_without_horizontal_scrolling(
    sample_pages: list[Path], width: int
) -> None:
    for page in sample_pages:
        scroll_width, client_width = measure_width(page, width)
        assert client_width == width, page.name
        assert scroll_width <= client_width, f"{page.name} at {width}px: {scroll_width}px wide"
