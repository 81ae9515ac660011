"""The issue's sections, both languages, hostile text and the plain-text part."""

from __future__ import annotations

import html
import itertools
import re

from pipeline.config import Config
from pipeline.issue.build import render_variants
from pipeline.render.issue import RenderedIssue, render_issue
from pipeline.render.personalize import Personalizable, html_values
from pipeline.render.preview import sample_values
from tests.render.conftest import make_issue, make_item

EVERY_KIND = [
    make_item(1, "intro", title="Liebe Leserinnen und Leser", link=None),
    make_item(2, "report", title="Bericht vom Auftakt", image="https://example.org/a.jpg",
              image_alt="Menschen im Saal"),
    make_item(3, "partner", title="Neuer Partner aus Herne"),
    make_item(4, "event", title="Werkstatt in Wuppertal"),
    make_item(5, "news", title="Förderprogramm verlängert"),
]  # fmt: skip


def rendered(config: Config, locale: str, *items: object) -> RenderedIssue:
    content = make_issue(*items)
    return render_issue(content, site=config.site, locale=locale, subject="Betreff")


def filled(variant: RenderedIssue, config: Config) -> tuple[str, str]:
    values = sample_values(config, variant.locale)
    return (
        Personalizable.parse(variant.html).fill(html_values(values)),
        Personalizable.parse(variant.text).fill(values),
    )


def headings(page: str) -> list[tuple[int, str]]:
    return [
        (int(level), html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
        for level, text in re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", page, re.S)
    ]


def test_sections_come_in_reading_order_with_german_headings(config: Config) -> None:
    page, _ = filled(rendered(config, "de", *reversed(EVERY_KIND)), config)
    titles = [text for level, text in headings(page) if level == 2]
    assert titles == ["Editorial", "Berichte", "Neue Partner", "Termine", "Weitere Nachrichten"]


def test_headings_are_in_order_one_then_two_then_three(config: Config) -> None:
    page, _ = filled(rendered(config, "de", *EVERY_KIND), config)
    levels = [level for level, _ in headings(page)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


def test_a_section_without_items_is_left_out(config: Config) -> None:
    page, text = filled(rendered(config, "de", EVERY_KIND[1], EVERY_KIND[4]), config)
    assert "Berichte" in page and "Weitere Nachrichten" in page
    for absent in ("Neue Partner", "Termine", "Editorial"):
        assert absent not in page and absent.upper() not in text


def test_english_issue_is_english_throughout(config: Config) -> None:
    variant = rendered(config, "en", *EVERY_KIND)
    page, text = filled(variant, config)
    assert '<html lang="en"' in page
    english = (
        "Reports", "New partners", "Upcoming events", "Read more", "Unsubscribe",
        "Add to calendar", "Hello Erika Mustermann,", "Thursday, December 3, 2026",
    )  # fmt: skip
    for phrase in english:
        assert phrase in html.unescape(page), phrase
    for german in ("Berichte", "Weiterlesen", "Abbestellen", "Donnerstag"):
        assert german not in page and german not in text


def test_event_shows_weekday_date_time_place_and_calendar_link(config: Config) -> None:
    online = make_item(9, "event", title="Online-Forum", event_location=None,
                       event_online_url="https://meet.example.org/forum")  # fmt: skip
    page, text = filled(rendered(config, "de", EVERY_KIND[3], online), config)
    page = html.unescape(page)
    assert "Donnerstag, 3. Dezember 2026, 18:00–20:00 Uhr" in page
    assert "Quartiershalle, Musterstraße 1, Wuppertal" in page
    assert f"{config.site.url}/events/4.ics" in page
    assert 'href="https://meet.example.org/forum"' in page and "Online teilnehmen" in page
    assert "In den Kalender eintragen: [" in text


def test_hostile_item_text_is_shown_as_text(config: Config) -> None:
    hostile = make_item(
        6, title='<script>alert(1)</script> & "Co"', summary="<img src=x onerror=alert(1)>",
        link="https://example.org/?a=1&b=<2>",
    )  # fmt: skip
    page, text = filled(rendered(config, "de", hostile), config)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in page
    assert "https://example.org/?a=1&amp;b=&lt;2&gt;" in page
    assert '<script>alert(1)</script> & "Co"' in text  # plain text is not HTML: shown as is


def test_feed_html_with_a_lone_angle_bracket_and_an_open_paragraph_renders(config: Config) -> None:
    body = make_item(7, link=None, body_html="<p>Kosten < 100 €<p>Zweiter Absatz<h2>Mehr</h2>")
    page, _ = filled(rendered(config, "de", body), config)
    assert "Kosten &lt; 100 €</p>" in page
    assert "<h4" in page and "Mehr</h4>" in page  # below the card's h3


def test_text_part_stands_on_its_own(config: Config) -> None:
    _, text = filled(rendered(config, "de", *EVERY_KIND), config)
    assert not re.search(r"</?[a-z]+[ >/]", text), "HTML in the text part"
    assert "&amp;" not in text and "&#" not in text
    assert "BERICHTE\n========" in text and "TERMINE\n=======" in text
    numbered = dict(re.findall(r"^\[(\d+)\] (\S+)$", text, re.M))
    references = [int(n) for n in re.findall(r": \[(\d+)\]$", text, re.M)]
    assert references == sorted(set(references)), "links are numbered in reading order"
    assert {str(n) for n in references} == set(numbered)
    assert numbered["1"] == "https://example.org/items/2"
    assert f"{config.site.url}/unsubscribe/PREVIEW" in text
    assert "Musterstraße 12" in text


def test_image_has_alt_text_and_the_issue_reads_without_images(config: Config) -> None:
    page, _ = filled(rendered(config, "de", *EVERY_KIND), config)
    assert 'alt="Menschen im Saal"' in page
    without_images = re.sub(r"<img[^>]*>", "", page)
    for title in ("Bericht vom Auftakt", "Werkstatt in Wuppertal", "Gemeinsam für das Quartier"):
        assert title in html.unescape(without_images)


def test_title_and_preheader_say_what_is_inside(config: Config) -> None:
    page, _ = filled(rendered(config, "de", *EVERY_KIND), config)
    assert "<title>Betreff</title>" in page
    preheader = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', page, re.S)
    assert preheader and "Bericht vom Auftakt" in preheader.group(1)


def test_footer_has_address_imprint_why_and_links(config: Config) -> None:
    site = config.site.model_copy(update={"imprint_url": "https://example.org/impressum"})
    variant = render_issue(make_issue(*EVERY_KIND), site=site, locale="de", subject="S")
    page, _ = filled(variant, config.model_copy(update={"site": site}))
    page = html.unescape(page)
    assert 'href="https://example.org/impressum"' in page and "Impressum" in page
    assert "Musterstraße 12<br />10117 Berlin" in page
    assert "weil Sie Neuigkeiten von Gemeinsam für das Quartier abonniert haben" in page
    assert f"{config.site.url}/preferences/PREVIEW" in page
    assert f"{config.site.url}/archive/7" in page


def test_footer_links_the_privacy_policy_and_the_sign_up(config: Config) -> None:
    privacy = "https://netzwerk-quartier.example.org/datenschutz"
    assert str(config.site.privacy_url) == privacy, "the sample config sets one"
    variant = render_issue(make_issue(*EVERY_KIND), site=config.site, locale="de", subject="S")
    page, text = filled(variant, config)
    page = html.unescape(page)
    assert re.search(rf'<a href="{privacy}"[^>]*>Datenschutzerklärung</a>', page)
    assert f"Datenschutzerklärung: {privacy}" in text
    forward = re.search(r"Leiten Sie diese Ausgabe.*?</div>", page, re.S)
    assert forward, page
    assert re.search(
        rf'<a href="{config.site.url}/subscribe"[^>]*>[^<]*abonnieren</a>', forward.group(0)
    ), forward.group(0)
    assert f"{config.site.url}/subscribe" in text


def test_logo_and_colours_come_from_config(config: Config) -> None:
    colors = config.site.colors.model_copy(update={"brand": "#123456"})
    site = config.site.model_copy(
        update={"logo_url": "https://example.org/logo.png", "colors": colors}
    )
    variant = render_issue(make_issue(*EVERY_KIND), site=site, locale="de", subject="S")
    assert 'src="https://example.org/logo.png"' in variant.html
    assert "#123456" in variant.html


def test_full_issue_is_rendered_in_both_languages_with_no_readers(config: Config) -> None:
    variants = render_variants(make_issue(*EVERY_KIND), config)
    assert [v.variant_key for v in variants] == ["de", "en"]
