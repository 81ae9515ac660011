"""`GET/POST /submit` and `/submit/<token>`: partners send news in.

The form takes a report, a new partner or an event, validated as a content file is and
stored as a submission (`submitted`, waiting for an editor), never written into the
content folder. Its defences are the sign-up form's: a signed form token bound to the
page, a honeypot, the shared rate limit per network (`rate_limits.submission`), and caps
on the body's size and fields. The public form answers on the page and mails nobody: a
form that mailed a typed address would be a spam relay, and one that mailed the editors
whatever anyone typed would be one too: its submissions wait on the desk. A new
submission through a partner's link is mailed to the editors, and its receipt to the
partner's registered address (on the web's mail thread, `pipeline.partner_mail`).
With `submit.partners_only` only a partner's personal link (`newsletter partners add`)
opens it.
"""

from __future__ import annotations

import gettext
import logging
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.collect.every_problem import validate_front_matter
from pipeline.collect.item import CollectedItem
from pipeline.collect.submission import BODY_CHARS, KINDS, submission_item
from pipeline.net.public_links import link_refusal
from pipeline.partner_mail import editors_notice, receipt, send_mails
from pipeline.partners import Partner, partner_of_link
from pipeline.queue.submissions import store_submission
from pipeline.render.i18n import translations
from pipeline.tokens import InvalidToken, check_form_token, make_form_token
from pipeline.web.context import WebContext, client_network, context_of
from pipeline.web.desk.forms import field_errors, form_values, new_front_matter
from pipeline.web.pages import LOCALES, message_page, page_locale, render_page

log = logging.getLogger(__name__)
FORM_PATH = "/submit"
FORM_MAX_AGE = timedelta(hours=12)
HONEYPOT = "website"
MAX_BODY_BYTES = 64 * 1024
"""A submission is text: a summary, some paragraphs, addresses. More is refused (413)."""
MAX_FIELDS = 40


class _NoForm(Exception):
    """The path opens no form: a bad or revoked link, or a public form when closed."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _partner(request: Request, locale: str) -> Partner | None:
    """The partner whose link the path carries, None on the public form; _NoForm when
    the path opens nothing."""
    context = context_of(request)
    _ = translations(locale).gettext
    token = request.path_params.get("token")
    if token is None:
        if context.config.submit.partners_only:
            text = _("Only the network's partners can send news in, through their personal link.")
            raise _NoForm(message_page(request, locale, _("Sending news in"), text, 403))
        return None
    with context.engine.connect() as connection:
        try:
            return partner_of_link(connection, context.secret_key, token)
        except InvalidToken:
            text = _(
                "This submission link is not valid (any more). Please ask the editors for a "
                "new one."
            )
            page = message_page(request, locale, _("This link is not valid"), text, 404)
            raise _NoForm(page) from None


def _form(
    request: Request,
    locale: str,
    partner: Partner | None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = context_of(request)
    blank = {name: "" for name in _FIELDS} | {"kind": "report", "topics": []}
    return render_page(
        request,
        "submit.html.j2",
        locale,
        {
            "csrf": make_form_token(context.secret_key, request.url.path),
            "path": request.url.path,
            "partner": partner,
            "kinds": KINDS,
            "topics": context.config.topics,
            "values": values or blank,
            "errors": errors or {},
        },
        status_code=status_code,
    )


_FIELDS = (
    "title", "summary", "kind", "link", "image", "image_alt", "body",
    "event_start", "event_end", "event_location", "event_online_url",
)  # fmt: skip


async def submit_form(request: Request) -> Response:
    locale = page_locale(request)
    try:
        partner = await run_in_threadpool(_partner, request, locale)
    except _NoForm as refused:
        return refused.response
    return _form(request, locale, partner)


async def submit(request: Request) -> Response:
    context = context_of(request)
    locale = page_locale(request)
    _ = translations(locale).gettext
    try:
        partner = await run_in_threadpool(_partner, request, locale)
    except _NoForm as refused:
        return refused.response
    length = request.headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES:
        text = _("The submission is too long. Please shorten the text.")
        return message_page(request, locale, _("Too long"), text, status_code=413)
    form = await request.form(max_fields=MAX_FIELDS, max_part_size=MAX_BODY_BYTES)
    if form.get("locale") in LOCALES:
        locale = str(form.get("locale"))
        _ = translations(locale).gettext
    try:
        check_form_token(
            context.secret_key, str(form.get("csrf", "")), request.url.path, FORM_MAX_AGE
        )
    except InvalidToken:
        error = {"form": _("The form has expired. Please send it again.")}
        return _form(request, locale, partner, _values(form), error, 400)
    if form.get(HONEYPOT):
        return _receipt(request, locale, str(form.get("title", ""))[:300])
    wait = await context.limiter.refused("submission", client_network(request))
    if wait is not None:
        return message_page(
            request,
            locale,
            _("Too many submissions"),
            _("Too many submissions came from your network. Please try again later."),
            status_code=429,
            retry_after_s=wait,
        )
    values = _values(form)
    try:
        item = _item(context, values, partner, translations(locale))
    except _Invalid as invalid:
        return _form(request, locale, partner, values, invalid.errors, 400)
    stored = await run_in_threadpool(
        store_submission, context.engine, item, partner.id if partner else None, context.clock()
    )
    log.info("a submission was stored as item %d (%s)", stored.item_id, stored.state)
    if stored.new and partner is not None:
        context.mails.submit(partial(_mail_about, context, stored.item_id, item, partner))
    return _receipt(request, locale, item.title)


async def _mail_about(
    context: WebContext, item_id: int, item: CollectedItem, partner: Partner
) -> None:
    """On the mail thread: the editors' notice, and the partner's receipt to the address
    registered for them (never one typed into the form)."""
    config = context.config
    mails = [*editors_notice(config, item_id, item.title, item.source)]
    mails.append(receipt(config, partner.email, item.title))
    await send_mails(config, mails)


def _values(form: FormData) -> dict[str, Any]:
    values = form_values(form)
    return {name: values[name] for name in (*_FIELDS, "topics")}


class _Invalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors


def _item(
    context: WebContext,
    values: dict[str, Any],
    partner: Partner | None,
    translation: gettext.NullTranslations,
) -> CollectedItem:
    """The submission's item, or _Invalid with every problem by field."""
    _ = translation.gettext
    errors: dict[str, str] = {}
    if values["kind"] not in KINDS:
        errors["kind"] = _("Please choose one of the options.")
        values["kind"] = "report"
    known = {topic.key for topic in context.config.topics}
    if any(topic not in known for topic in values["topics"]):
        errors["topics"] = _("Please choose one of the options.")
    if values["image"] and not values["image"].startswith("https://"):
        errors["image"] = _("Please enter a full web address starting with https://")
    for name in ("link", "image", "event_online_url"):
        if values[name] and name not in errors and link_refusal(values[name]) is not None:
            errors[name] = _("Please enter an address on the public web.")
    if len(values["body"]) > BODY_CHARS:
        errors["body"] = _("This text is too long.")
    zone = ZoneInfo(context.config.site.timezone)
    at = context.clock()
    front = new_front_matter(values | {"date": "", "draft": False})
    front["date"] = at.astimezone(zone).date()
    front = {k: v for k, v in front.items() if v not in (None, [])}
    try:
        fields = validate_front_matter(front)
    except ValidationError as exc:
        errors = field_errors(exc, translation) | errors
        raise _Invalid(errors) from exc
    if errors:
        raise _Invalid(errors)
    source = (
        partner.name if partner else translations(context.config.site.locale).gettext("Public form")
    )
    return submission_item(
        fields,
        front,
        values["body"],
        partner_id=partner.id if partner else None,
        source=source,
        zone=zone,
        at=at,
    )


def _receipt(request: Request, locale: str, title: str) -> Response:
    """The page's receipt: what was received and what happens next; no mail from here."""
    _ = translations(locale).gettext
    text = _(
        "We have received “%(title)s”. The editors look at every submission before it goes "
        "out in the newsletter."
    ) % {"title": title}
    return message_page(request, locale, _("Thank you for your news"), text)


routes = [
    Route(FORM_PATH, submit_form, methods=["GET"]),
    Route(FORM_PATH, submit, methods=["POST"]),
    Route(f"{FORM_PATH}/{{token}}", submit_form, methods=["GET"]),
    Route(f"{FORM_PATH}/{{token}}", submit, methods=["POST"]),
]
