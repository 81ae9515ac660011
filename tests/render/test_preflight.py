"""Each preflight rule, passing and failing; every finding names where it comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.issue import preflight as preflight_module
from pipeline.issue.model import IssueContent, IssueItem
from pipeline.issue.preflight import Finding, preflight
from pipeline.render.issue import render_issue
from tests.render.conftest import BUILT_AT, make_issue, make_item

GOOD = make_issue(make_item(1, "report"), make_item(2, "event"))


def check(
    config: Config,
    *items: IssueItem,
    subject: str = "Neues aus dem Netzwerk",
    templates: Path | None = None,
    content: IssueContent | None = None,
    as_sent: bool = False,
) -> list[Finding]:
    content = content if content is not None else (make_issue(*items) if items else GOOD)
    variant = render_issue(
        content, site=config.site, locale="de", subject=subject,
        override_dirs=[templates] if templates else [],
        analytics=config.analytics.model_copy(update={"opens": True}) if as_sent else None,
    )  # fmt: skip
    if as_sent:
        assert "/r/" in variant.html and "/o/" in variant.html
    return preflight([variant], config)


def errors(findings: list[Finding]) -> list[str]:
    return [f"{f.where}: {f.message}" for f in findings if f.is_error]


@pytest.mark.parametrize("as_sent", [False, True], ids=["preview", "tracked"])
def test_a_good_issue_passes_without_findings(config: Config, as_sent: bool) -> None:
    assert check(config, as_sent=as_sent) == []


def test_html_over_gmails_clipping_size_is_an_error(config: Config) -> None:
    big = [make_item(i, summary="Sehr langer Text. " * 700) for i in range(1, 11)]
    assert any("Gmail clips" in e for e in errors(check(config, *big)))


def test_leftover_template_syntax_names_the_item(config: Config) -> None:
    found = errors(check(config, make_item(3, title="Hallo {{ name }}")))
    assert found == [
        "content/item-3.md: leftover template syntax '{{'",
        "content/item-3.md: leftover template syntax '}}'",
    ]


def test_leftover_placeholder_from_a_template_names_the_template(
    config: Config, tmp_path: Path
) -> None:
    (tmp_path / "partials").mkdir()
    footer = Path("templates/partials/footer.mjml.j2").read_text("utf-8")
    (tmp_path / "partials" / "footer.mjml.j2").write_text(
        footer.replace("</mj-text>", "%(name)s</mj-text>"), "utf-8"
    )
    found = errors(check(config, templates=tmp_path))
    assert "template issue.mjml.j2: leftover template syntax '%(name)s'" in found


@pytest.mark.parametrize(
    "link", ["/berichte/auftakt", "javascript:alert(1)", "ftp://example.org/x", "www.example.org"]
)
@pytest.mark.parametrize("as_sent", [False, True], ids=["preview", "tracked"])
def test_relative_or_non_http_link_is_an_error_naming_the_item(
    config: Config, link: str, as_sent: bool
) -> None:
    """Also behind a tracked link: the destination is what a reader reaches."""
    found = errors(check(config, make_item(4, link=link), as_sent=as_sent))
    assert f"content/item-4.md: link {link!r} is not an absolute http(s) address" in found


def test_feed_item_is_named_by_its_feed(config: Config) -> None:
    item = make_item(5, key="https://example.org/feed#5", source="Stadtteilzeitung", link="/x")
    assert errors(check(config, item))[0].startswith('feed "Stadtteilzeitung": link')


def test_http_https_and_mailto_links_pass(config: Config) -> None:
    body = '<p><a href="mailto:info@example.org">Mail</a> <a href="http://example.org">a</a></p>'
    assert errors(check(config, make_item(6, link=None, body_html=body))) == []


def test_item_image_without_alt_text_is_an_error(config: Config) -> None:
    item = make_item(7, image="https://example.org/bild.jpg", image_alt=None)
    assert errors(check(config, item)) == [
        "content/item-7.md: image 'https://example.org/bild.jpg' has no alt text (set image_alt)"
    ]


def test_body_image_without_alt_is_an_error_and_a_decorative_one_passes(config: Config) -> None:
    missing = make_item(8, link=None, body_html='<p><img src="https://example.org/a.png"></p>')
    decorative = make_item(9, link=None, body_html='<img src="https://example.org/b.png" alt="">')
    assert errors(check(config, missing)) == [
        "content/item-8.md: image 'https://example.org/a.png' has no alt text"
    ]
    assert errors(check(config, decorative)) == []


def test_empty_text_part_is_an_error(config: Config, tmp_path: Path) -> None:
    (tmp_path / "issue.txt.j2").write_text("{# nothing #}\n", "utf-8")
    found = errors(check(config, templates=tmp_path))
    assert "template issue.txt.j2: the plain-text part is empty" in found


def test_footer_without_postal_address_or_unsubscribe_link_is_an_error(
    config: Config, tmp_path: Path
) -> None:
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "footer.mjml.j2").write_text(
        '<mj-section><mj-column><mj-text>{{ _("Imprint") }}</mj-text></mj-column></mj-section>\n',
        "utf-8",
    )
    found = errors(check(config, templates=tmp_path))
    assert "template issue.mjml.j2: the postal address is missing" in found
    assert "template issue.mjml.j2: the unsubscribe link is missing" in found
    assert not any("issue.txt.j2" in f for f in found)


def test_missing_list_unsubscribe_header_is_an_error(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stands for a regression in the composer: the header builder returning nothing.
    monkeypatch.setattr(preflight_module, "unsubscribe_headers", lambda _site, _url: {})
    assert errors(check(config)) == [
        "pipeline.send.compose: the List-Unsubscribe header is missing"
    ]


def test_plain_http_site_cannot_offer_one_click_unsubscribe(config: Config) -> None:
    site = config.site.model_copy(update={"base_url": "http://example.org"})
    found = errors(check(config.model_copy(update={"site": site})))
    assert found == ["config site.base_url: one-click unsubscribe (RFC 8058) needs https"]


def test_empty_issue_is_an_error(config: Config) -> None:
    empty = IssueContent(number=3, date=BUILT_AT, sections=())
    assert "issue: the issue has no items" in errors(check(config, content=empty))


def test_empty_subject_is_an_error_and_a_long_one_a_warning(config: Config) -> None:
    assert errors(check(config, subject="  ")) == ["config issue.subject: the subject is empty"]
    long = check(config, subject="Neues aus dem Netzwerk Gemeinsam für das Quartier " * 2)
    assert errors(long) == []
    assert [f.level for f in long] == ["warning"] and "characters" in long[0].message


def test_findings_list_the_variants_they_were_seen_in(config: Config) -> None:
    content = make_issue(make_item(4, link="/x"))
    variants = [
        render_issue(content, site=config.site, locale=locale, subject="S", key=locale)
        for locale in ("de", "en")
    ]
    (finding,) = preflight(variants, config)
    assert finding.variants == ("de", "en")
    assert str(finding).endswith("[de, en]")
