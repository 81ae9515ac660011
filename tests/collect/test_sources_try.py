"""`newsletter sources try URL --selector NAME=CSS ...`: what collect would make of a page,
shown before the page goes into config.yaml, with clear words for selectors that match
nothing; a calendar is recognised by its content."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from pipeline.net.guard import TEST_PUBLIC_NETS
from tests.collect.conftest import FeedServer, Route, running_server
from tests.collect.test_pages import ARTICLES, PAGES, PUBLIC_HOST, article
from tests.conftest import TEST_SECRET_KEY, Project

ENVIRONMENT = {"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY, TEST_PUBLIC_NETS: f"{PUBLIC_HOST}/32"}
WORDPRESS = [
    "--selector", "entry=article.post", "--selector", "title=.entry-title",
    "--selector", "link=.entry-title", "--selector", "date=.entry-date",
    "--selector", "summary=.excerpt", "--selector", "image=article.post",
]  # fmt: skip


@pytest.fixture
def site() -> Iterator[FeedServer]:
    with running_server(PUBLIC_HOST) as server:
        server.routes["/aktuelles/"] = Route.feed(
            "../pages/wordpress-list.html", content_type="text/html; charset=utf-8"
        )
        listing = (PAGES / "typo3-list.html").read_bytes()
        server.routes["/verein/aktuelles/index.html"] = Route(
            body=listing, content_type="text/html"
        )
        for slug, title in ARTICLES.items():
            server.routes[f"/verein/artikel/{slug}.html"] = article(title, f"Bericht {slug}: ")
        yield server


def _try(project: Project, *args: str) -> tuple[int, str, str]:
    result = project.run("sources", "try", *args, check=False, secrets=ENVIRONMENT)
    return result.returncode, result.stdout, result.stderr


def test_a_page_is_shown_as_collect_would_store_it_with_an_entry_for_config_yaml(
    project: Project, site: FeedServer
) -> None:
    code, out, err = _try(project, site.url("/aktuelles/"), *WORDPRESS)

    assert code == 0, err
    assert "Web page: Aktuelles – Stadtteilbüro Nord" in out
    assert "entry   `article.post`: 3 entries" in out
    assert "date    `.entry-date`: found in 3 of 3 entries" in out
    assert "image   `article.post`: found in 1 of 3 entries" in out
    assert "1. Sommerfest im Hinterhof" in out
    assert f"   link:    {site.base}/quartier/aktuelles/sommerfest" in out
    assert "   date:    17.02.2022" in out
    assert "   summary: Wir feiern gemeinsam mit allen Nachbarn." in out
    assert f"   image:   {site.base}/quartier/bilder/sommerfest.jpg (Lange Tische im Hof)" in out
    snippet = out.split("For config.yaml, under sources.pages:\n", 1)[1]
    (entry,) = yaml.safe_load(snippet)
    assert entry["url"] == site.url("/aktuelles/")
    assert entry["selectors"]["entry"] == "article.post" and "summary" in entry["selectors"]
    assert not (project.root / "newsletter.db").exists(), "nothing is stored"


def test_without_a_summary_selector_the_first_articles_are_read(
    project: Project, site: FeedServer
) -> None:
    code, out, err = _try(
        project,
        site.url("/verein/aktuelles/index.html"),
        *("--selector", "entry=.news-list-item", "--selector", "title=h3"),
        *("--selector", "link=a.more", "--selector", "date=.news-list-date"),
    )

    assert code == 0, err
    assert "summary (none) each linked article's main text gives the summary" in out
    assert "date    `.news-list-date`: found in 2 of 3 entries" in out
    assert "   summary: Bericht pflanzaktion: Die Nachbarschaft hat sich an einem" in out
    assert "3. Bücherschrank am Markt" in out
    assert "   date:    first seen, " in out


def test_selectors_that_match_nothing_are_named(project: Project, site: FeedServer) -> None:
    code, out, err = _try(
        project,
        site.url("/aktuelles/"),
        *("--selector", "entry=article.post", "--selector", "title=.entry-title"),
        *("--selector", "link=.entry-title", "--selector", "date=.datum"),
    )
    assert code == 0, err
    assert "date    `.datum`: matches nothing inside the 3 entries" in out

    code, out, err = _try(
        project,
        site.url("/aktuelles/"),
        *("--selector", "entry=div.news", "--selector", "title=h2", "--selector", "link=h2"),
    )
    assert code == 1
    assert "entry   `div.news`: matches nothing on the page" in out
    assert "the entry selector `div.news` matched nothing on the page" in err


@pytest.mark.parametrize(
    ("selectors", "problem"),
    [
        (["colour=h2"], "'colour' is not one of entry, title, link, date, summary, image"),
        (["entry"], "'entry': give NAME=CSS"),
        (["entry=.a"], "a page needs entry, title and link; missing: title, link"),
        (["entry=.a", "title=h2[", "link=a"], "title: Value error, 'h2[' is not a CSS selector"),
    ],
)
def test_a_wrong_selector_option_is_refused_by_name(
    project: Project, site: FeedServer, selectors: list[str], problem: str
) -> None:
    args = [part for css in selectors for part in ("--selector", css)]
    code, _out, err = _try(project, site.url("/aktuelles/"), *args)

    assert code == 2
    assert problem in " ".join(err.split())
    assert site.seen == [], "nothing is fetched for a wrong option"


def test_a_page_without_selectors_is_named_with_how_to_go_on(
    project: Project, site: FeedServer
) -> None:
    code, out, _err = _try(project, site.url("/aktuelles/"))

    assert code == 0
    assert "Web page: Aktuelles – Stadtteilbüro Nord" in out
    assert "--selector entry=CSS --selector title=CSS --selector link=CSS" in out


def test_a_calendar_is_recognised_by_its_content(project: Project, site: FeedServer) -> None:
    ics = b"\xef\xbb\xbfBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nextcloud//DE\r\n"
    ics += b"END:VCALENDAR\r\n"
    site.routes["/termine"] = Route(body=ics, content_type="application/octet-stream")

    code, out, _err = _try(project, site.url("/termine"), *WORDPRESS)

    assert code == 0
    assert f"Calendar (.ics): {site.url('/termine')}" in out
    assert "sources.calendars" in out


def test_a_page_that_cannot_be_fetched_is_an_error(project: Project, site: FeedServer) -> None:
    site.routes["/weg"] = Route(status=404)

    code, _out, err = _try(project, site.url("/weg"), *WORDPRESS)

    assert code == 1
    assert f"error: {site.url('/weg')}: HTTP 404 Not Found" in err
