"""The known differences of mjml-python (MRML) from the official mjml, each guarded.

Measured against mjml 4.15: MRML refuses `mj-html-attributes`, lets comments break
Outlook's conditional comments inside `mj-wrapper`, miscomputes widths for a unitless `0`
padding, does not inline `mj-style inline="inline"`, and fails on a lone `<` or an unclosed
`<p>` in `mj-text`. These tests pin both MRML's behaviour and how the templates avoid it.
"""

from __future__ import annotations

import re

import html5lib
import pytest
from mjml import mjml2html

from pipeline.collect.sanitize import sanitise_html
from pipeline.config import Config
from pipeline.render.fragment import mjml_safe
from pipeline.render.issue import render_issue, render_mjml
from tests.conftest import REPO
from tests.render.conftest import make_issue, make_item

TEMPLATES = sorted((REPO / "templates").rglob("*.mjml.j2"))
ISSUE = make_issue(
    make_item(1, "intro", link=None, body_html="<p>Hallo <!-- Notiz --> Welt</p>"),
    make_item(2, "report", image="https://example.org/a.jpg", image_alt="Ein Saal"),
    make_item(3, "event"),
)


def wrap(text: str) -> str:
    return (
        "<mjml><mj-body><mj-section><mj-column><mj-text>"
        f"{text}</mj-text></mj-column></mj-section></mj-body></mjml>"
    )


def test_mrml_refuses_mj_html_attributes_and_no_template_uses_it() -> None:
    with pytest.raises(Exception, match="unexpected element"):
        mjml2html(
            "<mjml><mj-head><mj-html-attributes><mj-selector path='.x'>"
            "<mj-html-attribute name='data-x'>1</mj-html-attribute></mj-selector>"
            "</mj-html-attributes></mj-head><mj-body></mj-body></mjml>"
        )
    for template in TEMPLATES:
        assert "<mj-html-attributes" not in template.read_text("utf-8"), template


def test_compiled_issue_has_no_comments_but_outlooks_conditionals(config: Config) -> None:
    variant = render_issue(ISSUE, site=config.site, locale="de", subject="S")
    comments = re.findall(r"<!--(.*?)-->", variant.html, re.S)
    assert comments, "Outlook's conditional comments are expected"
    for comment in comments:
        assert comment.startswith(("[if", "<![endif]")) or comment == "[endif]", comment
    assert "Notiz" not in variant.html


@pytest.mark.parametrize("attribute", ["padding", "width", "border-radius"])
def test_every_length_in_the_mjml_has_a_unit(config: Config, attribute: str) -> None:
    source, _, _ = render_mjml(ISSUE, site=config.site, locale="de", subject="S")
    values = re.findall(rf'\s{attribute}="([^"]*)"', source)
    assert values
    for value in values:
        for part in value.split():
            assert re.fullmatch(r"\d+(\.\d+)?(px|%)", part), f'{attribute}="{value}"'


def test_mrml_does_not_inline_mj_style_so_the_templates_do_not_rely_on_it(
    config: Config,
) -> None:
    inlined = mjml2html(
        "<mjml><mj-head><mj-style inline='inline'>.x h3 { color: #ff0000; }</mj-style>"
        "</mj-head><mj-body><mj-section><mj-column><mj-text css-class='x'><h3>T</h3>"
        "</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert '<h3 style="color' not in inlined and "<h3>T</h3>" in inlined
    for template in TEMPLATES:
        assert 'inline="inline"' not in template.read_text("utf-8"), template
    html = render_issue(ISSUE, site=config.site, locale="de", subject="S").html
    # What Gmail must see is in style attributes: headings, links, paragraphs.
    tags = re.findall(r"<(?:h[1-4]|p)\b[^>]*>|<a\b[^>]*>(?!<img)", html)
    assert len(tags) > 10
    for tag in tags:
        assert "style=" in tag, tag


@pytest.mark.parametrize("broken", ["Kosten < 100 €", "<p>Ein offener Absatz"])
def test_mrml_fails_on_raw_feed_html_that_normalising_repairs(broken: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - MRML raises one bare exception type
        mjml2html(wrap(broken))
    repaired = mjml2html(wrap(mjml_safe(broken)))
    assert "Kosten &lt; 100 €" in repaired or "Ein offener Absatz</p>" in repaired


def test_no_web_font_is_imported_from_google(config: Config) -> None:
    html = render_issue(ISSUE, site=config.site, locale="de", subject="S").html
    assert "fonts.googleapis.com" not in html


QUOTE_BREAKOUT = '<abbr title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">Abk.</abbr>'


def test_a_quote_in_an_attribute_stays_inside_it_through_mrml(config: Config) -> None:
    # html5lib's own serialiser quoted this value with ' and left the " raw; MRML re-quoted
    # it with " and wrote \", so the browser saw a real <script> (issue 14, finding 4).
    item = make_item(1, "intro", link=None, body_html=sanitise_html(QUOTE_BREAKOUT))
    html = render_issue(make_issue(item), site=config.site, locale="de", subject="S").html
    document = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    assert document.find(".//script") is None
    titles = [abbr.get("title") for abbr in document.iter("abbr")]
    assert titles == ['"><script>alert(1)</script>']


def test_fragments_quote_every_attribute_with_double_quotes_and_escape_it() -> None:
    fragment = mjml_safe("<a href=\"https://example.org/?a=1&amp;b='2'\" title='x\"<y>'>l</a>")
    assert fragment == (
        '<a href="https://example.org/?a=1&amp;b=\'2\'" title="x&quot;&lt;y&gt;">l</a>'
    )
