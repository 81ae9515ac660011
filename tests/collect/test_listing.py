"""A listing page's HTML into entries (pure: no server): broken links are no links, and an
element matched as `link` may be the anchor itself."""

from __future__ import annotations

from pipeline.collect.listing import parse_listing
from pipeline.config import PageSelectors

SELECTORS = PageSelectors(entry="li", title="h3", link="a")


def test_a_broken_or_foreign_link_is_no_link_and_the_entry_keeps_its_title() -> None:
    page = (
        "<ul><li><h3>IPv6 kaputt</h3><a href='http://[::1/x'>mehr</a></li>"
        "<li><h3>Skript</h3><a href='javascript:alert(1)'>mehr</a></li>"
        "<li><h3>Mail</h3><a href='mailto:info@example.org'>mehr</a></li>"
        "<li><a href='/ohne-titel'>Nur ein Link</a></li>"
        "<li><span>weder noch</span></li></ul>"
    )

    listing = parse_listing(page, "https://verein.example.org/aktuelles/", SELECTORS)

    assert [(entry.title, entry.link) for entry in listing.entries] == [
        ("IPv6 kaputt", None),
        ("Skript", None),
        ("Mail", None),
        ("Nur ein Link", "https://verein.example.org/ohne-titel"),
    ]
    assert listing.without_title_or_link == 1
    assert listing.found == {"title": 3, "link": 1}
