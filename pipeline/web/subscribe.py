"""`GET/POST /subscribe`: the sign-up form and the start of the double opt-in.

The answer to a sign-up is the same page whether the address was new, pending, active,
unsubscribed or suppressed, and the confirmation mail goes out after the answer, so
neither the page nor its timing tells whether an address was known.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.sign_up import Started, start_sign_up, stats_asked
from pipeline.tokens import InvalidToken, check_form_token, make_form_token
from pipeline.web.confirmation import ConfirmationMail, send_confirmation
from pipeline.web.context import WebContext, client_address, client_network, context_of
from pipeline.web.pages import LOCALES, message_page, page_locale, render_page
from subscribers import sign_ups
from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.names import clean_name

log = logging.getLogger(__name__)
FORM_PATH = "/subscribe"
FORM_MAX_AGE = timedelta(hours=12)
HONEYPOT = "website"
# The optional box of personalised statistics: unticked unless the reader ticks it.
STATS_FIELD = "stats"
MAX_PREFILLED = 320


async def subscribe_form(request: Request) -> Response:
    # `?email=` comes from "Subscribe again" after unsubscribing; it only fills in the form.
    email = request.query_params.get("email", "")[:MAX_PREFILLED]
    return _form(request, page_locale(request), email=email)


def _form(
    request: Request,
    locale: str,
    error: str = "",
    email: str = "",
    name: str = "",
    stats: bool = False,
) -> Response:
    context = context_of(request)
    return render_page(
        request,
        "subscribe.html.j2",
        locale,
        {
            "csrf": make_form_token(context.secret_key, FORM_PATH),
            "topics": context.config.topics,
            "error": error,
            "email": email,
            "name": name,
            "analytics": context.config.analytics,
            "stats_asked": stats_asked(context.config),
            "stats": stats,
        },
        status_code=400 if error else 200,
    )


async def subscribe(request: Request) -> Response:
    context = context_of(request)
    form = await request.form()
    locale = str(form.get("locale", "")) if form.get("locale") in LOCALES else page_locale(request)
    gettext = translations(locale).gettext
    try:
        check_form_token(context.secret_key, str(form.get("csrf", "")), FORM_PATH, FORM_MAX_AGE)
    except InvalidToken:
        return _form(request, locale, gettext("The form has expired. Please send it again."))
    thanks = RedirectResponse(f"{FORM_PATH}/thanks?lang={locale}", status_code=303)
    if form.get(HONEYPOT):
        return thanks
    wait = await context.limiter.refused("sign_up", client_network(request))
    if wait is not None:
        return message_page(
            request,
            locale,
            gettext("Too many sign-ups"),
            gettext("Too many sign-ups came from your network. Please try again later."),
            status_code=429,
            retry_after_s=wait,
        )
    raw_email = str(form.get("email", ""))
    name = clean_name(str(form.get("name", "")))
    stats = form.get(STATS_FIELD) == "yes" and stats_asked(context.config)
    try:
        email = normalise_address(raw_email)
    except InvalidAddress:
        error = gettext("Please enter a valid email address.")
        return _form(request, locale, error, raw_email, name, stats)
    if form.get("consent") != "yes":
        error = gettext("Please agree to receive the newsletter.")
        return _form(request, locale, error, raw_email, name, stats)
    known_topics = {topic.key for topic in context.config.topics}
    sign_up = sign_ups.SignUp(
        name=name,
        locale=locale,
        topics=tuple(t for t in form.getlist("topics") if isinstance(t, str) and t in known_topics),
        text_version=context.config.subscriptions.consent_text_version,
        ip=client_address(request),
        at=context.clock(),
        stats_text_version=context.config.analytics.consent_text_version if stats else None,
    )
    started = await run_in_threadpool(start, context, email, sign_up)
    if started.confirm_url is not None:
        mail = ConfirmationMail(email, locale, started.confirm_url)
        thanks.background = BackgroundTask(send_later, context, mail)
    return thanks


def start(context: WebContext, email: str, sign_up: sign_ups.SignUp) -> Started:
    """The sign-up of the form and of the API, under the web's limit of mails an address."""

    def mail_share(connection: sa.Connection, address: str) -> int | None:
        return context.limiter.take_in(connection, "mails_to_address", address)

    return start_sign_up(
        context.engine, context.config, context.secret_key, email, sign_up, mail_share
    )


async def send_later(context: WebContext, mail: ConfirmationMail) -> None:
    try:
        await send_confirmation(context.config, mail)
    except Exception:
        # After the answer has gone out nothing can be told to the visitor; the log keeps it.
        log.exception("the confirmation mail could not be sent")


async def thanks(request: Request) -> Response:
    locale = page_locale(request)
    gettext = translations(locale).gettext
    return message_page(
        request,
        locale,
        gettext("Please check your inbox"),
        gettext(
            "If the address can receive the newsletter, a mail with a confirmation link is on "
            "its way. The subscription starts once you open that link and press its button."
        ),
    )


routes = [
    Route(FORM_PATH, subscribe_form, methods=["GET"]),
    Route(FORM_PATH, subscribe, methods=["POST"]),
    Route(f"{FORM_PATH}/thanks", thanks, methods=["GET"]),
]
