"""Render an issue: Jinja2 -> MJML -> HTML once per variant, and the plain-text part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mjml import mjml2html

from pipeline.config import Site
from pipeline.errors import TemplateError
from pipeline.issue.model import IssueContent
from pipeline.render import dates
from pipeline.render.environment import make_environment, render_template
from pipeline.render.personalize import PLACEHOLDERS, Personalizable

HTML_TEMPLATE = "issue.mjml.j2"
TEXT_TEMPLATE = "issue.txt.j2"


@dataclass(frozen=True)
class RenderedIssue:
    locale: str
    subject: str
    html: str
    text: str

    def personalizable(self) -> tuple[Personalizable, Personalizable]:
        return Personalizable.parse(self.html), Personalizable.parse(self.text)


def subject_for(template: str, content: IssueContent, site: Site, locale: str) -> str:
    when = dates.short_date(content.date, locale, site.timezone)
    return template.format(number=content.number, date=when)


def render_issue(
    content: IssueContent,
    *,
    site: Site,
    locale: str,
    subject: str,
    override_dirs: Sequence[Path] = (),
) -> RenderedIssue:
    environment = make_environment(locale, override_dirs)
    environment.filters.update(
        long_date=lambda moment: dates.long_date(moment, locale, site.timezone),
        short_date=lambda moment: dates.short_date(moment, locale, site.timezone),
    )
    environment.globals["event_when"] = lambda item: dates.event_when(
        item.event_start, item.event_end, locale, site.timezone
    )
    context: dict[str, object] = {
        "issue": content,
        "site": site,
        "locale": locale,
        "subject": subject,
        "webview_url": f"{site.url}/archive/{content.number}",
        "recipient": PLACEHOLDERS,
        "links": numbered_links(content),
    }
    mjml_source = render_template(environment, HTML_TEMPLATE, context)
    try:
        # Comments inside mj-wrapper break Outlook's conditional comments in MRML.
        html = mjml2html(mjml_source, disable_comments=True)
    except Exception as exc:  # MRML raises a bare exception type for every compile error.
        raise TemplateError(f"{HTML_TEMPLATE}: MJML does not compile: {exc}") from exc
    text = render_template(environment, TEXT_TEMPLATE, context)
    return RenderedIssue(locale=locale, subject=subject, html=html, text=text)


def numbered_links(content: IssueContent) -> dict[str, int]:
    """Each distinct item link numbered in reading order, for the plain-text part."""
    numbers: dict[str, int] = {}
    for item in content.items:
        for url in (item.link, item.event_online_url):
            if url and url not in numbers:
                numbers[url] = len(numbers) + 1
    return numbers
