"""Web pages without a feed, collected with the operator's CSS selectors from a real HTTP
server: two listing-page shapes, the article-text path, robots.txt, the per-host bound,
the address rules for what a page supplies, and a broken page among good sources.

The "public" site runs on 127.0.0.2, which `NEWSLETTER_TEST_PUBLIC_NETS` (a test-only hook)
makes count as public: every request goes through the guarded client as on a real site.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline import db
from pipeline.collect import CollectReport, collect
from pipeline.net.guard import TEST_PUBLIC_NETS
from tests.collect.conftest import FeedServer, Route, running_server
from tests.collect.helpers import feed_row, queue
from tests.conftest import TEST_SECRET_KEY, Project

PAGES = Path(__file__).parent / "pages"
PUBLIC_HOST = "127.0.0.2"
HTML = "text/html; charset=utf-8"
WORDPRESS = {
    "entry": "article.post",
    "title": ".entry-title",
    "link": ".entry-title",
    "date": ".entry-date",
    "summary": ".excerpt",
    "image": "article.post",
}
TYPO3 = {"entry": ".news-list-item", "title": "h3", "link": "a.more", "date": ".news-list-date"}
ARTICLES = {
    "pflanzaktion": "Pflanzaktion im Hinterhof",
    "repair-cafe": "Das Repair-Café ist zurück",
    "buecherschrank": "Ein Bücherschrank für alle",
}


def article(title: str, first: str = "") -> Route:
    text = (PAGES / "article.html").read_text(encoding="utf-8")
    body = text.replace("TITLE", title).replace("FIRST ", first)
    return Route(body=body.encode(), content_type=HTML)


@dataclass
class PageProject:
    project: Project
    server: FeedServer

    def configure(self, pages: list[dict[str, Any]], **collect_settings: Any) -> None:
        def change(raw: dict[str, Any]) -> None:
            raw["sources"]["pages"] = pages
            raw["collect"] = {"timeout_s": 5, "max_age_days": None} | collect_settings

        self.project.edit_config(change)

    def page(self, name: str, path: str, selectors: dict[str, str], **more: Any) -> dict[str, Any]:
        return {"name": name, "url": self.server.url(path), "selectors": selectors} | more

    def collect(self) -> CollectReport:
        config = self.project.config()
        return collect(config, db.make_engine(config.database.url))


@pytest.fixture
def pages(project: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[PageProject]:
    monkeypatch.setenv(TEST_PUBLIC_NETS, f"{PUBLIC_HOST}/32")
    for path in project.content_dir.glob("*.md"):
        path.unlink()
    db.upgrade(project.engine())
    with running_server(PUBLIC_HOST) as server:
        yield PageProject(project, server)


def _serve_typo3(server: FeedServer, **options: Any) -> None:
    listing = (PAGES / "typo3-list.html").read_bytes()
    server.routes["/verein/aktuelles/index.html"] = Route(
        body=listing, content_type="text/html", **options
    )
    for slug, title in ARTICLES.items():
        server.routes[f"/verein/artikel/{slug}.html"] = article(title, f"Bericht {slug}: ")


def test_a_wordpress_style_list_is_collected_with_german_dates_links_teasers_and_images(
    pages: PageProject,
) -> None:
    pages.server.routes["/quartier/aktuelles/"] = Route.feed(
        "../pages/wordpress-list.html", content_type=HTML
    )
    pages.configure(
        [pages.page("Stadtteilbüro", "/quartier/aktuelles/", WORDPRESS, topics=["netzwerk"])]
    )

    report = pages.collect()

    assert not report.failed, report.sources
    held = queue(pages.project)
    assert set(held) == {
        "Sommerfest im Hinterhof",
        "Neue Sprechstunde im Stadtteilbüro",
        "Mieterbeirat gewählt",
    }
    fest = held["Sommerfest im Hinterhof"]
    base = pages.server.base
    assert fest["link"] == f"{base}/quartier/aktuelles/sommerfest"  # against <base href>
    assert fest["image"] == f"{base}/quartier/bilder/sommerfest.jpg"  # data-src, not data:
    assert fest["image_alt"] == "Lange Tische im Hof"
    assert fest["published_at"] == datetime(2022, 2, 16, 23, tzinfo=UTC)  # 17.2., Berlin
    assert fest["summary"] == "Wir feiern gemeinsam mit allen Nachbarn."
    assert "<b>gemeinsam</b>" in fest["body_html"] and "script" not in fest["body_html"]
    assert fest["source"] == "Stadtteilbüro" and fest["kind"] == "news"
    assert fest["topics"] == ["netzwerk"]
    assert fest["state"] == "queued"
    sprechstunde = held["Neue Sprechstunde im Stadtteilbüro"]
    assert sprechstunde["link"] == f"{base}/nord/aktuelles/sprechstunde?id=7"
    assert sprechstunde["published_at"] == datetime(2026, 12, 2, 23, tzinfo=UTC)  # 3. Dez.
    assert sprechstunde["summary"] == "Jeden Dienstag von 10 bis 12 Uhr – ohne Anmeldung."
    assert sprechstunde["image"] is None
    beirat = held["Mieterbeirat gewählt"]
    assert beirat["link"] == "https://partner.example.org/mieterbeirat"
    assert beirat["published_at"] == datetime(2026, 11, 27, 23, tzinfo=UTC)  # <time datetime>
    (request,) = pages.server.requests_to("/quartier/aktuelles/")
    assert request.headers["user-agent"] == (
        "newsletter-pipeline/0.1 (+https://netzwerk-quartier.example.org)"
    )
    assert pages.server.requests_to("/robots.txt"), "robots.txt is asked first"


def test_a_typo3_style_list_takes_its_summaries_from_the_linked_articles(
    pages: PageProject,
) -> None:
    _serve_typo3(pages.server)
    pages.configure([pages.page("Grünes Quartier", "/verein/aktuelles/index.html", TYPO3)])
    before = datetime.now(UTC)

    report = pages.collect()

    assert not report.failed, report.sources
    held = queue(pages.project)
    assert set(held) == {
        "Grüne Hinterhöfe: Pflanzaktion",  # read as the page's meta says: ISO-8859-1
        "Repair-Café öffnet wieder",
        "Bücherschrank am Markt",
    }
    pflanz = held["Grüne Hinterhöfe: Pflanzaktion"]
    assert pflanz["link"] == f"{pages.server.base}/verein/artikel/pflanzaktion.html"
    assert pflanz["published_at"] == datetime(2022, 2, 16, 23, tzinfo=UTC)
    summary = pflanz["summary"]
    assert summary.startswith("Bericht pflanzaktion: Die Nachbarschaft hat sich an einem")
    assert len(summary) <= 400 and summary.endswith(".")  # cut at a sentence's end
    for chrome in (
        "Pflanzaktion im Hinterhof",
        "Cookies",
        "Startseite",
        "Impressum",
        "Jahresbericht",
    ):
        assert chrome not in summary
    assert pflanz["body_html"] == f"<p>{summary}</p>"
    assert held["Repair-Café öffnet wieder"]["published_at"] == datetime(
        2026, 11, 4, 23, tzinfo=UTC
    )
    undated = held["Bücherschrank am Markt"]
    assert before <= undated["published_at"].replace(tzinfo=UTC) <= datetime.now(UTC)
    assert undated["summary"].startswith("Bericht buecherschrank: Die Nachbarschaft")


def test_a_known_article_is_not_read_again_and_an_unchanged_page_answers_304(
    pages: PageProject,
) -> None:
    _serve_typo3(pages.server, etag='"liste-1"')
    pages.configure([pages.page("Grünes Quartier", "/verein/aktuelles/index.html", TYPO3)])
    pages.collect()
    first_seen = queue(pages.project)["Bücherschrank am Markt"]["published_at"]

    report = pages.collect()

    (source,) = report.sources[1:]
    assert source.result == "not modified"
    listing = pages.server.requests_to("/verein/aktuelles/index.html")
    assert listing[1].headers["if-none-match"] == '"liste-1"'
    pages.server.routes["/verein/aktuelles/index.html"].etag = '"liste-2"'  # a changed page
    pages.collect()
    for slug in ARTICLES:
        assert len(pages.server.requests_to(f"/verein/artikel/{slug}.html")) == 1, slug
    assert queue(pages.project)["Bücherschrank am Markt"]["published_at"] == first_seen
    row = feed_row(pages.project, "Grünes Quartier")
    assert row["items_found"] == 3 and row["consecutive_failures"] == 0


def test_robots_txt_disallowing_the_articles_is_honoured(pages: PageProject) -> None:
    _serve_typo3(pages.server)
    pages.server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nDisallow: /verein/artikel/\n", content_type="text/plain"
    )
    pages.configure([pages.page("Grünes Quartier", "/verein/aktuelles/index.html", TYPO3)])

    report = pages.collect()

    assert not report.failed
    assert [path for path in (s.path for s in pages.server.seen) if "/artikel/" in path] == []
    held = queue(pages.project)
    assert len(held) == 3 and {row["summary"] for row in held.values()} == {""}
    (warning,) = report.sources[1].warnings
    assert "robots.txt disallows reading the articles" in warning
    assert f"{pages.server.base}/verein/artikel/pflanzaktion.html" in warning


def test_robots_txt_disallowing_the_page_fails_it_without_fetching_it(pages: PageProject) -> None:
    _serve_typo3(pages.server)
    pages.server.routes["/robots.txt"] = Route(
        body=b"User-agent: newsletter-pipeline\nDisallow: /\n", content_type="text/plain"
    )
    pages.configure([pages.page("Grünes Quartier", "/verein/aktuelles/index.html", TYPO3)])

    report = pages.collect()

    assert report.failed
    assert "its robots.txt disallows this page" in str(report.sources[1].errors[0])
    assert [s.path for s in pages.server.seen] == ["/robots.txt"]


def test_at_most_per_host_requests_go_to_one_site_at_a_time(pages: PageProject) -> None:
    entries = "".join(
        f'<div class="news-list-item"><h3>Meldung {n}</h3>'
        f'<a class="more" href="../artikel/{n}.html">mehr</a></div>'
        for n in range(8)
    )
    pages.server.routes["/verein/aktuelles/index.html"] = Route(
        body=f"<html><body>{entries}</body></html>".encode(), content_type=HTML
    )
    for n in range(8):
        route = article(f"Meldung {n}")
        route.delay_s = 0.2  # long enough for unbounded requests to overlap
        pages.server.routes[f"/verein/artikel/{n}.html"] = route
    pages.configure([pages.page("Viele", "/verein/aktuelles/index.html", TYPO3)])

    report = pages.collect()

    assert not report.failed
    assert all(row["summary"] for row in queue(pages.project).values())
    assert len([s for s in pages.server.seen if "/artikel/" in s.path]) == 8
    assert pages.server.most_at_once <= 2


def test_a_page_supplied_link_or_image_at_a_non_public_address_is_refused(
    pages: PageProject, feed_server: FeedServer
) -> None:
    internal = feed_server  # on 127.0.0.1: this machine
    internal.routes["/geheim.html"] = article("Intern")
    inside = f"http://127.0.0.1:{internal.port}"
    listing = (
        '<div class="news-list-item"><h3>Gut</h3><a class="more" href="/gut.html">mehr</a>'
        f'<img src="{inside}/zaehler.gif"></div>'
        '<div class="news-list-item"><h3>Intern</h3>'
        f'<a class="more" href="{inside}/geheim.html">mehr</a></div>'
        '<div class="news-list-item"><h3>Name</h3>'
        f'<a class="more" href="http://localhost:{internal.port}/geheim.html">mehr</a></div>'
    )
    pages.server.routes["/liste.html"] = Route(body=listing.encode(), content_type=HTML)
    pages.server.routes["/gut.html"] = article("Gut")
    selectors = TYPO3 | {"image": "img"}
    pages.configure([pages.page("Gemischt", "/liste.html", selectors)])

    result = pages.project.run(
        "collect",
        secrets={"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY, TEST_PUBLIC_NETS: f"{PUBLIC_HOST}/32"},
    )

    assert internal.seen == [], "no request may reach the internal server"
    held = queue(pages.project)
    assert set(held) == {"Gut"}
    assert held["Gut"]["image"] is None and held["Gut"]["summary"].startswith("Die Nachbarschaft")
    assert "left out, not public: " in result.stderr
    assert f"{inside}/geheim.html" in result.stderr and f"{inside}/zaehler.gif" in result.stderr


def test_a_broken_page_is_named_in_the_report_and_the_other_sources_are_collected(
    pages: PageProject,
) -> None:
    _serve_typo3(pages.server)
    pages.server.routes["/kaputt.html"] = Route(status=500)
    pages.server.routes["/umgebaut.html"] = Route(body=b"<p>Neu!</p>", content_type=HTML)
    pages.server.routes["/feed.xml"] = Route.feed("rss20.xml")
    pages.configure(
        [
            pages.page("Kaputt", "/kaputt.html", TYPO3),
            pages.page("Umgebaut", "/umgebaut.html", TYPO3),
            pages.page("Grünes Quartier", "/verein/aktuelles/index.html", TYPO3),
        ]
    )
    pages.project.edit_config(
        lambda raw: raw["sources"].update(  # type: ignore[attr-defined]
            feeds=[{"name": "Herne", "url": pages.server.url("/feed.xml")}]
        )
    )

    result = pages.project.run(
        "collect",
        check=False,
        secrets={"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY, TEST_PUBLIC_NETS: f"{PUBLIC_HOST}/32"},
    )

    assert result.returncode == 1
    assert (
        f"error: Kaputt ({pages.server.url('/kaputt.html')}): HTTP 500 Internal Server Error"
        in result.stderr
    )
    assert (
        f"error: Umgebaut ({pages.server.url('/umgebaut.html')}): the entry selector "
        "`.news-list-item` matched nothing on the page" in result.stderr
    )
    assert "Herne" in result.stdout and "Kaputt" in result.stdout
    assert "Richtfest in der Bahnhofstraße" in queue(pages.project)
    assert "Bücherschrank am Markt" in queue(pages.project)
    assert feed_row(pages.project, "Kaputt")["consecutive_failures"] == 1
    assert feed_row(pages.project, "Umgebaut")["last_error"].startswith("the entry selector")
    status = json.loads(pages.project.run("status", "--json").stdout)
    assert {source["name"]: source["state"] for source in status["sources"]} == {
        "Herne": "ok",
        "Kaputt": "failing",
        "Umgebaut": "failing",
        "Grünes Quartier": "ok",
    }


def test_an_entry_shown_twice_is_one_item_and_its_article_is_read_once(
    pages: PageProject,
) -> None:
    entry = (
        '<div class="news-list-item"><h3>Sommerfest</h3>'
        '<a class="more" href="/artikel/fest.html">mehr</a></div>'
    )
    other = (
        '<div class="news-list-item"><h3>Sprechstunde</h3>'
        '<a class="more" href="/artikel/sprechstunde.html">mehr</a></div>'
    )
    listing = f"<html><body><div class=teaser>{entry}</div>{other}{entry}</body></html>"
    pages.server.routes["/liste.html"] = Route(body=listing.encode(), content_type=HTML)
    pages.server.routes["/artikel/fest.html"] = article("Sommerfest")
    pages.server.routes["/artikel/sprechstunde.html"] = article("Sprechstunde")
    pages.configure([pages.page("Doppelt", "/liste.html", TYPO3)])

    report = pages.collect()

    assert report.sources[1].counts.new == 2
    assert set(queue(pages.project)) == {"Sommerfest", "Sprechstunde"}
    assert len(pages.server.requests_to("/artikel/fest.html")) == 1


def test_a_robots_txt_that_answers_5xx_closes_the_site_for_this_collect(
    pages: PageProject,
) -> None:
    _serve_typo3(pages.server)
    pages.server.routes["/robots.txt"] = Route(status=503)
    pages.configure([pages.page("Grünes Quartier", "/verein/aktuelles/index.html", TYPO3)])

    report = pages.collect()

    assert report.failed
    assert "its robots.txt could not be read (HTTP 503)" in str(report.sources[1].errors[0])
    assert [s.path for s in pages.server.seen] == ["/robots.txt"]
