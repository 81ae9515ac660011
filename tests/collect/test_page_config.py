"""A page's configuration is checked before anything is fetched: its selectors must be CSS
that selectolax reads, its topics ones config.yaml names; each problem names its key."""

from __future__ import annotations

from typing import Any

from tests.collect.conftest import FeedServer
from tests.conftest import Project


def _pages(project: Project, pages: list[dict[str, Any]]) -> None:
    project.edit_config(lambda raw: raw["sources"].update(pages=pages))  # type: ignore[attr-defined]


def test_a_selector_that_is_not_css_is_refused_with_its_key(
    project: Project, feed_server: FeedServer
) -> None:
    selectors = {"entry": "div.news", "title": "h3[", "link": "a"}
    _pages(project, [{"name": "Verein", "url": feed_server.url("/"), "selectors": selectors}])

    result = project.run("collect", check=False)

    assert result.returncode == 2
    assert "sources.pages.0.selectors.title: Value error, 'h3[' is not a CSS selector" in (
        result.stderr
    )
    assert feed_server.seen == []


def test_a_page_needs_entry_title_and_link_and_its_topics_must_be_known(
    project: Project, feed_server: FeedServer
) -> None:
    pages = [
        {"name": "Verein", "url": feed_server.url("/"), "selectors": {"entry": ".news"}},
        {
            "name": "Büro",
            "url": feed_server.url("/b"),
            "topics": ["sport"],
            "selectors": {"entry": ".news", "title": "h2", "link": "h2"},
        },
    ]
    _pages(project, pages)

    result = project.run("collect", check=False)

    assert result.returncode == 2
    assert "sources.pages.0.selectors.title: required but missing" in result.stderr
    assert "sources.pages.0.selectors.link: required but missing" in result.stderr
    _pages(project, pages[1:])
    result = project.run("collect", check=False)
    assert "sources.pages.0.topics: unknown topic 'sport'" in result.stderr
