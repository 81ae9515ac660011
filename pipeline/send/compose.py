"""Composing each reader's message from the issue's stored variants.

The HTML and text were rendered once per variant when the issue was built; here only the
per-reader values (greeting, signed links, headers) are filled in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from urllib.parse import quote

import sqlalchemy as sa

from pipeline.config import Bounces, Site
from pipeline.db import issue_variants, issues
from pipeline.issue.variants import stored_issue_topics, variant_for, variant_numbers
from pipeline.render.i18n import translations
from pipeline.render.personalize import Personalizable
from pipeline.send.ledger import Recipient
from pipeline.send.message import BodyTemplate, OutgoingMessage
from pipeline.tokens import ClickTokenMaker, DeliveryTokenMaker, SecretKeys, TokenMaker


def greeting(name: str, locale: str) -> str:
    gettext = translations(locale).gettext
    return gettext("Hello %(name)s,") % {"name": name} if name else gettext("Hello,")


class ReaderLinks:
    """Each reader's signed unsubscribe and preferences links; with `issue` (its number)
    they name the issue that carried them, so an unsubscribe is counted for it."""

    def __init__(self, site: Site, secret_key: SecretKeys, *, issue: int | None = None):
        self.unsubscribe = f"{site.url}/unsubscribe/"
        self.preferences = f"{site.url}/preferences/"
        self.unsubscribe_token = TokenMaker(secret_key, "unsubscribe", issue=issue)
        self.preferences_token = TokenMaker(secret_key, "preferences", issue=issue)

    def __call__(self, subscriber_id: int) -> dict[str, str]:
        return {
            "unsubscribe_url": self.unsubscribe + self.unsubscribe_token(subscriber_id),
            "preferences_url": self.preferences + self.preferences_token(subscriber_id),
        }


_URL_SAFE = re.compile(r"[A-Za-z0-9._-]*")


def unsubscribe_headers(
    site: Site,
    unsubscribe_url: str,
    *,
    bounce_address: str | None = None,
    delivery_token: str | None = None,
) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe, with a mailto: fallback for older mail apps.

    With a bounce address and a delivery, the mailto: goes to the bounce mailbox with the
    delivery's token (`unsubscribe <token>`), which is read there like a bounce; otherwise
    to `site.unsubscribe_address` (or the sender) with the link's token.
    """
    if bounce_address is not None and delivery_token is not None:
        mailto = f"mailto:{bounce_address}?subject=unsubscribe%20{delivery_token}"
    else:
        token = unsubscribe_url.rpartition("/")[2]
        if not _URL_SAFE.fullmatch(token):  # signed tokens always are; quoting costs per reader
            token = quote(token, safe="")
        mailbox = site.unsubscribe_address or site.sender.address
        mailto = f"mailto:{mailbox}?subject=unsubscribe%20{token}"
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def verp_address(bounce_address: str, delivery_token: str) -> str:
    """`bounces+TOKEN@domain`: the envelope sender that names the delivery a bounce is for
    (config validation keeps the local part within 64 characters)."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{delivery_token}@{domain}"


class Composer:
    def __init__(
        self,
        connection: sa.Connection,
        issue_id: int,
        site: Site,
        secret_key: SecretKeys,
        *,
        bounces: Bounces,
    ):
        self.site = site
        self.bounce_address = bounces.address
        self.verp = bounces.verp
        self.issue_id = issue_id
        self.issue_number: int = connection.execute(
            sa.select(issues.c.number).where(issues.c.id == issue_id)
        ).scalar_one()
        self.links = ReaderLinks(site, secret_key, issue=self.issue_number)
        self.delivery_token = DeliveryTokenMaker(secret_key)
        self.click_token = ClickTokenMaker(secret_key)
        self.variants = {
            row.variant: BodyTemplate(
                row.variant,
                row.subject,
                Personalizable.parse(row.html),
                Personalizable.parse(row.text),
            )
            for row in connection.execute(
                sa.select(issue_variants).where(issue_variants.c.issue_id == issue_id)
            )
        }
        self.chosen: dict[tuple[str, tuple[str, ...]], BodyTemplate] = {}
        # The number of each variant whose links are tracked (built with analytics.clicks
        # or opens): what its messages' click tokens carry.
        numbers = variant_numbers(self.variants)
        self.tracked_variant_no = {
            key: numbers[key]
            for key, body in self.variants.items()
            if "click" in body.html.names or "click" in body.text.names
        }
        self.sender_domain = site.sender.address.rpartition("@")[2]
        self.issue_topics = stored_issue_topics(connection, issue_id)

    def variant_for(self, recipient: Recipient) -> BodyTemplate:
        """The reader's language and topic selection, as chosen when the issue was built.

        Readers whose language has no variant read the site's language; a selection that
        was not rendered (the reader changed topics mid-send) falls back to the full issue.
        """
        choice = (recipient.locale, recipient.topics)
        chosen = self.chosen.get(choice)
        if chosen is None:  # once per language and selection: a send has few
            locale = recipient.locale if recipient.locale in self.variants else self.site.locale
            key = variant_for(locale, recipient.topics, self.issue_topics).key
            chosen = self.chosen[choice] = self.variants.get(key) or self.variants[locale]
        return chosen

    def envelope_from(self, token: str) -> str:
        if self.bounce_address is None:
            return self.site.sender.address
        return verp_address(self.bounce_address, token) if self.verp else self.bounce_address

    def compose_batch(self, recipients: Sequence[Recipient]) -> list[OutgoingMessage]:
        """One batch's messages; their click tokens carry the minute the batch was made."""
        minute = int(time.time() // 60)
        return [self.compose(recipient, minute) for recipient in recipients]

    def compose(self, recipient: Recipient, minute: int | None = None) -> OutgoingMessage:
        variant = self.variant_for(recipient)
        locale = recipient.locale if recipient.locale in self.variants else self.site.locale
        values = {"greeting": greeting(recipient.name, locale)}
        values |= self.links(recipient.subscriber_id)
        variant_no = self.tracked_variant_no.get(variant.key)
        if variant_no is not None:
            values["click"] = self.click_token(
                self.issue_id,
                variant_no,
                int(time.time() // 60) if minute is None else minute,
                recipient.subscriber_id if recipient.stats_consent else None,
            )
        token = self.delivery_token(recipient.delivery_id)
        return OutgoingMessage(
            delivery_id=recipient.delivery_id,
            delivery_key=f"{self.issue_number}-{recipient.delivery_id}",
            to_address=recipient.email,
            to_name=recipient.name,
            from_address=self.site.sender.address,
            from_name=self.site.sender.name,
            reply_to=self.site.reply_to,
            variant=variant,
            values=values,
            message_id=(
                f"<issue{self.issue_number}.d{recipient.delivery_id}.{token}@{self.sender_domain}>"
            ),
            envelope_from=self.envelope_from(token),
            headers={
                "X-Newsletter-Delivery": token,
                **unsubscribe_headers(
                    self.site,
                    values["unsubscribe_url"],
                    bounce_address=self.bounce_address,
                    delivery_token=token,
                ),
            },
        )
