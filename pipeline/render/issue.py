"""Render an issue: Jinja2 -> MJML -> HTML once per variant, and the plain-text part."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mjml import mjml2html

from pipeline.config import Site
from pipeline.errors import TemplateError
from pipeline.issue.model import IssueContent, IssueItem
from pipeline.render import dates
from pipeline.render.environment import make_environment, render_template
from pipeline.render.palette import DARK
from pipeline.render.personalize import PLACEHOLDERS, Personalizable
from pipeline.tokens import SecretKeys, make_event_preview_token

HTML_TEMPLATE = "issue.mjml.j2"
TEXT_TEMPLATE = "issue.txt.j2"


@dataclass(frozen=True)
class RenderedIssue:
    locale: str
    subject: str
    html: str
    text: str
    key: str = ""
    """The variant's key (`de`, `en:partner+netzwerk`); the locale for the full issue."""
    content: IssueContent | None = None
    """What was rendered, so checks can name the item a problem comes from."""

    @property
    def variant_key(self) -> str:
        return self.key or self.locale

    def personalizable(self) -> tuple[Personalizable, Personalizable]:
        return Personalizable.parse(self.html), Personalizable.parse(self.text)


def subject_for(template: str, content: IssueContent, site: Site, locale: str) -> str:
    when = dates.short_date(content.date, locale, site.timezone)
    return template.format(number=content.number, date=when)


def calendar_url(site: Site, item: IssueItem, preview_keys: SecretKeys | None = None) -> str:
    """Where `newsletter serve` offers the event as an .ics file: a plain link in an issue's
    mails, which opens once the issue has gone out; a signed one in a preview or test mail,
    whose items have not gone out yet."""
    url = f"{site.url}/events/{item.id}.ics"
    if preview_keys is None:
        return url
    return f"{url}?preview={make_event_preview_token(preview_keys, item.id)}"


def render_mjml(
    content: IssueContent,
    *,
    site: Site,
    locale: str,
    subject: str,
    override_dirs: Sequence[Path] = (),
    preview_keys: SecretKeys | None = None,
) -> tuple[str, str]:
    """The issue's MJML source and its plain text, before MJML compiles the first.

    `preview_keys` signs the calendar links, for a preview or a test mail."""
    environment = make_environment(locale, override_dirs, site.timezone)
    signed: dict[int, str] = {}

    def calendar_link(item: IssueItem) -> str:
        # Once per item: a signature carries its time, and the text part numbers its
        # links by the very URL the list below was made with.
        if item.id not in signed:
            signed[item.id] = calendar_url(site, item, preview_keys)
        return signed[item.id]

    context: dict[str, object] = {
        "issue": content,
        "site": site,
        "locale": locale,
        "subject": subject,
        "colors": site.colors,
        "dark": DARK,
        "webview_url": f"{site.url}/archive/{content.number}",
        "calendar_url": calendar_link,
        "card_groups": card_groups,
        "recipient": PLACEHOLDERS,
        "links": numbered_links(content, calendar_link),
    }
    return (
        render_template(environment, HTML_TEMPLATE, context),
        render_template(environment, TEXT_TEMPLATE, context),
    )


def render_issue(
    content: IssueContent,
    *,
    site: Site,
    locale: str,
    subject: str,
    override_dirs: Sequence[Path] = (),
    key: str = "",
    preview_keys: SecretKeys | None = None,
) -> RenderedIssue:
    mjml_source, text = render_mjml(
        content,
        site=site,
        locale=locale,
        subject=subject,
        override_dirs=override_dirs,
        preview_keys=preview_keys,
    )
    try:
        # Comments inside mj-wrapper break Outlook's conditional comments in MRML.
        html = mjml2html(mjml_source, disable_comments=True)
    except Exception as exc:  # MRML raises a bare exception type for every compile error.
        raise TemplateError(f"{HTML_TEMPLATE}: MJML does not compile: {exc}") from exc
    return RenderedIssue(
        locale=locale, subject=subject, html=html, text=text, key=key, content=content
    )


def card_groups(items: Sequence[IssueItem]) -> list[list[IssueItem]]:
    """Items laid out together: each with a picture alone, runs of those without together."""
    groups: list[list[IssueItem]] = []
    for item in items:
        if item.image or not groups or groups[-1][0].image:
            groups.append([item])
        else:
            groups[-1].append(item)
    return groups


def numbered_links(
    content: IssueContent, calendar_link: Callable[[IssueItem], str]
) -> dict[str, int]:
    """Each distinct link numbered in the order the plain-text part mentions it."""
    numbers: dict[str, int] = {}
    for item in content.items:
        calendar = calendar_link(item) if item.kind == "event" else None
        for url in (item.event_online_url, calendar, item.link):
            if url and url not in numbers:
                numbers[url] = len(numbers) + 1
    return numbers
