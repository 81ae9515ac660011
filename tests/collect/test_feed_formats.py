"""Every feed format and oddity that feedparser reads ends as clean items in the queue."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import queue, states


def test_every_feed_format_is_queued_with_title_link_and_date(feeds: FeedProject) -> None:
    names = {
        "RSS 0.91": ("/rss091.xml", "application/rss+xml"),
        "RSS 1.0": ("/rss10.rdf", "application/rdf+xml"),
        "RSS 2.0": ("/rss20.xml", "application/rss+xml"),
        "Atom 0.3": ("/atom03.xml", "application/atom+xml"),
        "Atom 1.0": ("/atom10.xml", "application/atom+xml"),
    }
    for path, content_type in names.values():
        feeds.server.routes[path] = Route.feed(path[1:], content_type=content_type)
    feeds.configure({name: path for name, (path, _) in names.items()})

    report = feeds.collect()

    assert not report.failed
    held = queue(feeds.project)
    assert {title: row["state"] for title, row in held.items()} == {
        "Sprechstunde im Quartiersbüro": "queued",
        "Neue Bänke am Marktplatz": "queued",
        "Herbstfest im Hinterhof": "queued",
        "Richtfest in der Bahnhofstraße": "queued",
        "Werkstattgespräch Leerstand": "queued",
        "Kooperation besiegelt": "queued",
    }
    assert held["Sprechstunde im Quartiersbüro"]["link"] == "https://nord.example.org/sprechstunde"
    assert held["Herbstfest im Hinterhof"]["published_at"] == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert held["Herbstfest im Hinterhof"]["topics"] == ["netzwerk"]
    richtfest = held["Richtfest in der Bahnhofstraße"]
    assert richtfest["source"] == "RSS 2.0"
    assert richtfest["key"].endswith("#herne-2026-041")
    assert richtfest["published_at"] == datetime(2026, 11, 3, 13, 30, tzinfo=UTC)
    assert richtfest["categories"] == ["Partner", "Bauen"]
    assert richtfest["topics"] == ["partner"]
    assert richtfest["image"] == "https://herne.example.org/img/richtfest.jpg"
    assert richtfest["summary"] == "Die Genossenschaft feiert."
    assert "<b>Genossenschaft</b>" in richtfest["body_html"]
    assert held["Werkstattgespräch Leerstand"]["published_at"] == datetime(
        2026, 10, 30, 8, tzinfo=UTC
    )
    kooperation = held["Kooperation besiegelt"]
    assert kooperation["image"] == "https://atom.example.org/img/vertrag.jpg"
    assert kooperation["summary"] == "Stadt und Kulturverein unterschreiben."


def test_feed_declaring_the_wrong_encoding_still_reads_its_umlauts(feeds: FeedProject) -> None:
    feeds.server.routes["/enc.xml"] = Route.feed(
        "wrong-encoding.xml", content_type="application/xml; charset=utf-8"
    )
    feeds.configure({"Kodierung": "/enc.xml"})

    report = feeds.collect()

    assert not report.failed
    assert "declared as utf-8" in report.sources[-1].warnings[0]
    item = queue(feeds.project)["Straßenfest in Köln-Mülheim"]
    assert item["summary"] == "Große Bühne für „kleine“ Vereine."


def test_relative_links_become_absolute_against_the_feed_url(feeds: FeedProject) -> None:
    feeds.server.routes["/sub/relative.xml"] = Route.feed("relative-links.xml")
    feeds.configure({"Relativ": "/sub/relative.xml"})

    feeds.collect()

    item = queue(feeds.project)["Bericht mit relativen Links"]
    base = feeds.server.base
    assert item["link"] == f"{base}/berichte/relativ"
    assert f'href="{base}/sub/mehr.html"' in item["body_html"]
    assert f'src="{base}/img/foto.jpg"' in item["body_html"]
    assert (item["image"], item["image_alt"]) == (f"{base}/img/foto.jpg", "Ein Foto")


def test_entries_without_dates_are_dated_when_first_seen_and_stay_unchanged(
    feeds: FeedProject,
) -> None:
    feeds.server.routes["/undated.xml"] = Route.feed("missing-dates.xml")
    feeds.configure({"Ohne Datum": "/undated.xml"})
    before = datetime.now(UTC)

    feeds.collect()
    first = queue(feeds.project)["Ein Beitrag ohne Datum"]["published_at"]
    again = feeds.collect()

    assert before <= first <= datetime.now(UTC)
    assert queue(feeds.project)["Ein Beitrag ohne Datum"]["published_at"] == first
    counts = again.sources[-1].counts
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 2)


def test_entry_updated_in_place_updates_its_one_item(feeds: FeedProject) -> None:
    feeds.server.routes["/updated.xml"] = Route.feed("updated-v1.xml")
    feeds.configure({"Rat": "/updated.xml"})
    feeds.collect()

    feeds.server.routes["/updated.xml"] = Route.feed("updated-v2.xml")
    report = feeds.collect()

    assert report.sources[-1].counts.updated == 1
    assert states(feeds.project) == {"Ratssitzung vertagt auf den 12. Dezember": "queued"}
    item = queue(feeds.project)["Ratssitzung vertagt auf den 12. Dezember"]
    assert item["summary"] == "Neuer Termin: 12. Dezember, 18 Uhr."


def test_malformed_feed_with_entries_yields_them_with_a_warning(feeds: FeedProject) -> None:
    feeds.server.routes["/malformed.xml"] = Route.feed("malformed.xml")
    feeds.configure({"Kaputt": "/malformed.xml"})

    report = feeds.collect()

    assert not report.failed
    assert "undefined entity" in report.sources[-1].warnings[0]
    assert states(feeds.project) == {"Trotzdem lesbar": "queued"}


def test_hostile_content_is_sanitised(feeds: FeedProject) -> None:
    feeds.server.routes["/hostile.xml"] = Route.feed("hostile.xml")
    feeds.configure({"Feindselig": "/hostile.xml"})

    feeds.collect()

    item = queue(feeds.project)["Gewinnspiel"]
    body = item["body_html"]
    assert item["link"] is None  # a javascript: link is no link
    assert 'href="https://hostile.example.org/echt"' in body
    assert "echter Link" in body and "böser Link" in body
    for forbidden in (
        "<script",
        "onclick",
        "onerror",
        "javascript:",
        "data:",
        "<form",
        "<input",
        "<iframe",
        "<style",
        "pixel.gif",
        "feedburner",
        "evil.example",
    ):
        assert forbidden not in body, forbidden
    (image,) = re.findall(r"<img[^>]*>", body)
    assert sorted(re.findall(r'(\w+)="([^"]*)"', image)) == [
        ("alt", "Bild"),
        ("src", "https://hostile.example.org/x.jpg"),
    ]
    assert item["summary"] == "Echter Text echter Link böser Link"


def test_gzip_response_is_read(feeds: FeedProject) -> None:
    feeds.server.routes["/gz.xml"] = Route.feed("rss20.xml", gzip=True)
    feeds.configure({"Gzip": "/gz.xml"})

    feeds.collect()

    assert "gzip" in feeds.server.requests_to("/gz.xml")[0].headers["accept-encoding"]
    assert states(feeds.project) == {"Richtfest in der Bahnhofstraße": "queued"}


def test_old_entries_expire_instead_of_being_queued(feeds: FeedProject) -> None:
    feeds.server.routes["/old.xml"] = Route.feed("rss20.xml")
    feeds.configure({"Alt": "/old.xml"}, max_age_days=1)

    feeds.collect()

    assert states(feeds.project) == {"Richtfest in der Bahnhofstraße": "expired"}
