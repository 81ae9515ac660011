"""The double opt-in mail: rendered by the same Jinja2 + MJML pipeline, sent by the provider.

It goes to any address a stranger types into the form, so it carries nothing the stranger
typed: no name in the greeting or in `To` ("Hallo Gewinn! Besuchen Sie https://..." would
be spam or phishing in our name). Only the site's own text and the signed link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mjml import mjml2html
from starlette.concurrency import run_in_threadpool

from pipeline.config import Config
from pipeline.errors import PermanentProviderError, TemplateError
from pipeline.render.environment import make_environment, render_template
from pipeline.render.i18n import translations
from pipeline.render.personalize import Personalizable
from pipeline.send.message import BodyTemplate, OutgoingMessage
from pipeline.send.providers import make_provider

HTML_TEMPLATE = "confirm.mjml.j2"
TEXT_TEMPLATE = "confirm.txt.j2"


@dataclass(frozen=True)
class ConfirmationMail:
    to_address: str
    locale: str
    confirm_url: str


def render_confirmation(config: Config, mail: ConfirmationMail) -> BodyTemplate:
    locale = mail.locale
    subject = translations(locale).gettext("Please confirm your subscription to %(name)s") % {
        "name": config.site.name
    }
    context: dict[str, object] = {
        "site": config.site,
        "locale": locale,
        "subject": subject,
        "greeting": translations(locale).gettext("Hello,"),
        "confirm_url": mail.confirm_url,
        "expiry_days": f"{config.subscriptions.confirm_expiry_days:g}",
    }
    environment = make_environment(locale)
    source = render_template(environment, HTML_TEMPLATE, context)
    try:
        html = mjml2html(source, disable_comments=True)
    except Exception as exc:  # MRML raises a bare exception type for every compile error.
        raise TemplateError(f"{HTML_TEMPLATE}: MJML does not compile: {exc}") from exc
    text = render_template(environment, TEXT_TEMPLATE, context)
    # The mail is made for one reader: no placeholders are left to fill.
    return BodyTemplate(f"confirm-{locale}", subject, _literal(html), _literal(text))


def _literal(text: str) -> Personalizable:
    return Personalizable(chunks=(text,), names=())


async def send_confirmation(config: Config, mail: ConfirmationMail) -> None:
    """Send through the configured provider; a failure is raised, never swallowed."""
    site = config.site
    domain = site.sender.address.rpartition("@")[2]
    key = secrets.token_hex(8)
    message = OutgoingMessage(
        delivery_id=0,
        delivery_key=f"confirm-{key}",
        to_address=mail.to_address,
        to_name="",
        from_address=site.sender.address,
        from_name=site.sender.name,
        reply_to=site.reply_to,
        # Rendering is CPU work: off the event loop, so other requests are not held up.
        variant=await run_in_threadpool(render_confirmation, config, mail),
        values={},
        message_id=f"<confirm.{key}@{domain}>",
        # No delivery to name: a bounce goes to the sender's mailbox, not the bounce one.
        envelope_from=site.sender.address,
    )
    provider = make_provider(config)
    try:
        results = await provider.send_batch([message])
    finally:
        await provider.close()
    if results and results[0].error:
        raise PermanentProviderError(f"the confirmation mail was refused: {results[0].error}")
