"""Render an issue: Jinja2 -> MJML -> HTML once per variant, and the plain-text part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mjml import mjml2html

from pipeline.config import Analytics, Site
from pipeline.errors import TemplateError
from pipeline.issue.model import IssueContent, IssueItem
from pipeline.render import dates
from pipeline.render.environment import make_environment, render_template
from pipeline.render.palette import DARK
from pipeline.render.personalize import PLACEHOLDERS, Personalizable
from pipeline.render.tracking import TrackedLink, Tracker, numbered_links, opens_pixel_url
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
    links: tuple[TrackedLink, ...] = ()
    """The links the mails track (`/r/<token>.<position>`); none when nothing is counted."""

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
    analytics: Analytics | None = None,
) -> tuple[str, str, list[TrackedLink]]:
    """The issue's MJML source, its plain text, and the links the mails track.

    `preview_keys` signs the calendar links, for a preview or a test mail; `analytics`
    (only for an issue's mails) tracks its links and adds the opens image."""
    environment = make_environment(locale, override_dirs, site.timezone)
    signed: dict[int, str] = {}

    def calendar_link(item: IssueItem) -> str:
        # Once per item: a signature carries its time, and the text part numbers its
        # links by the very URL the list below was made with.
        if item.id not in signed:
            signed[item.id] = calendar_url(site, item, preview_keys)
        return signed[item.id]

    links = numbered_links(content, calendar_link)
    clicks = analytics is not None and analytics.clicks
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
        "links": {link.url: link.position for link in links},
        "track": Tracker(links, site.url if clicks else None),
        "opens_pixel": opens_pixel_url(site.url) if analytics and analytics.opens else None,
    }
    return (
        render_template(environment, HTML_TEMPLATE, context),
        render_template(environment, TEXT_TEMPLATE, context),
        links if clicks else [],
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
    analytics: Analytics | None = None,
) -> RenderedIssue:
    mjml_source, text, links = render_mjml(
        content,
        site=site,
        locale=locale,
        subject=subject,
        override_dirs=override_dirs,
        preview_keys=preview_keys,
        analytics=analytics,
    )
    try:
        # Comments inside mj-wrapper break Outlook's conditional comments in MRML.
        html = mjml2html(mjml_source, disable_comments=True)
    except Exception as exc:  # MRML raises a bare exception type for every compile error.
        raise TemplateError(f"{HTML_TEMPLATE}: MJML does not compile: {exc}") from exc
    return RenderedIssue(
        locale=locale,
        subject=subject,
        html=html,
        text=text,
        key=key,
        content=content,
        links=tuple(links),
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
