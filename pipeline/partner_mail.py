"""The mails about submissions: the editors' notice of a new one, a partner's receipt, and
the partner's "your news went out" with the archive link.

Only addresses nobody could type into the form get these: `editors:` from config.yaml and
the partners' registered addresses (`newsletter partners add`). The public form mails
nobody. Each goes through the configured provider, as the desk's sign-in mail does.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.db import issues, items, partners
from pipeline.render.i18n import translations
from pipeline.send.link_mail import link_mail
from pipeline.send.message import OutgoingMessage
from pipeline.send.providers import make_provider

log = logging.getLogger(__name__)


def _mail(
    config: Config, to: str, kind: str, subject: str, lines: list[str], url: str
) -> OutgoingMessage:
    """A short plain mail in the site's language: its lines, then the link."""
    site = config.site
    return link_mail(
        site, to=to, kind=kind, locale=site.locale, subject=subject, before=lines, url=url
    )


def editors_notice(config: Config, item_id: int, title: str, source: str) -> list[OutgoingMessage]:
    """One mail per editor: a submission waits on the desk."""
    _ = translations(config.site.locale).gettext
    subject = _("Sent in: %(title)s") % {"title": title}
    lines = [
        _("%(source)s has sent news in: “%(title)s”.") % {"source": source, "title": title},
        _("It goes into no issue until an editor approves it on the desk:"),
    ]
    url = f"{config.site.url}/desk/items/{item_id}/edit"
    return [
        _mail(config, str(editor), "submitted", subject, lines, url) for editor in config.editors
    ]


def receipt(config: Config, partner_email: str, title: str) -> OutgoingMessage:
    """The partner's receipt, to their registered address."""
    _ = translations(config.site.locale).gettext
    subject = _("We have received your news: %(title)s") % {"title": title}
    lines = [
        _("Thank you: we have received “%(title)s”.") % {"title": title},
        _(
            "The editors look at every submission before it goes out in the newsletter. "
            "When it does, you get a mail with the link to the issue. Past issues:"
        ),
    ]
    return _mail(config, partner_email, "receipt", subject, lines, f"{config.site.url}/archive")


def published(config: Config, partner_email: str, title: str, number: int) -> OutgoingMessage:
    _ = translations(config.site.locale).gettext
    subject = _("Your news went out: %(title)s") % {"title": title}
    lines = [
        _("“%(title)s” went out today in issue %(number)s of the newsletter.")
        % {"title": title, "number": number},
        _("The issue in the archive:"),
    ]
    url = f"{config.site.url}/archive/{number}"
    return _mail(config, partner_email, "published", subject, lines, url)


async def send_mails(config: Config, messages: list[OutgoingMessage]) -> int:
    """Send through the provider; how many it accepted. Failures are logged, not raised:
    the submission or the issue they tell of is done already."""
    if not messages:
        return 0
    provider = make_provider(config)
    try:
        results = await provider.send_batch(messages)
    except Exception:
        log.exception("%d mail(s) about submissions could not be sent", len(messages))
        return 0
    finally:
        await provider.close()
    refused = [result.error for result in results if result.error]
    for error in refused:
        log.error("a mail about a submission was refused: %s", error)
    return len(results) - len(refused)


def tell_partners(config: Config, engine: sa.Engine, issue_id: int, at: datetime) -> int:
    """Mail each partner whose submission the issue carried, once (a resumed send does not
    mail them again); returns how many mails went out."""
    query = (
        sa.select(items.c.id, items.c.title, partners.c.email, issues.c.number)
        .join(partners, partners.c.id == items.c.partner_id)
        .join(issues, issues.c.id == items.c.issue_id)
        .where(
            items.c.issue_id == issue_id,
            items.c.state == "sent",
            items.c.key.startswith("submit:"),
            items.c.partner_told_at.is_(None),
        )
    )
    with engine.begin() as connection:
        rows = connection.execute(query).all()
        if rows:
            ids = [row.id for row in rows]
            connection.execute(
                sa.update(items).where(items.c.id.in_(ids)).values(partner_told_at=at)
            )
    mails = [published(config, row.email, row.title, row.number) for row in rows]
    return asyncio.run(send_mails(config, mails))
