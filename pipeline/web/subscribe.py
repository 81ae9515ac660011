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
from pipeline.tokens import InvalidToken, check_form_token, make_confirm_token, make_form_token
from pipeline.web.confirmation import ConfirmationMail, send_confirmation
from pipeline.web.context import WebContext, client_address, client_network, context_of
from pipeline.web.pages import LOCALES, message_page, page_locale, render_page
from subscribers import sign_ups, store, suppression
from subscribers.addresses import InvalidAddress, normalise_address

log = logging.getLogger(__name__)
FORM_PATH = "/subscribe"
FORM_MAX_AGE = timedelta(hours=12)
# A pending address gets another confirmation mail at most this often, whoever asks.
RESEND_AFTER = timedelta(minutes=15)
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
            "stats_asked": _stats_asked(context),
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
    name = str(form.get("name", "")).strip()[:200]
    stats = form.get(STATS_FIELD) == "yes" and _stats_asked(context)
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
    mail = await run_in_threadpool(_sign_up, context, email, sign_up)
    if mail is not None:
        thanks.background = BackgroundTask(_send, context, mail)
    return thanks


def _stats_asked(context: WebContext) -> bool:
    """The form asks for personalised statistics only while something would be counted."""
    return context.config.analytics.clicks or context.config.analytics.opens


def _sign_up(context: WebContext, email: str, sign_up: sign_ups.SignUp) -> ConfirmationMail | None:
    """Keep the sign-up apart until confirmed; returns the mail to send, or None for none.

    Nothing of an existing subscriber's record changes here: an unsubscribed reader's
    topics and consent stay until the mailed link's button is pressed.
    """
    max_age = timedelta(days=context.config.subscriptions.confirm_expiry_days)
    try:
        with context.engine.begin() as connection:
            sign_ups.forget_expired(connection, sign_up.at - max_age)
            found = store.find(connection, email)
            if found is None:
                reason = suppression.reason_for(connection, email)
                if reason is not None and reason not in suppression.LIFTED_BY_OPT_IN:
                    return None
            elif found.state not in sign_ups.MAY_SIGN_UP:
                return None
            with connection.begin_nested() as attempt:
                if found is None:
                    # The name waits with the sign-up: the reader confirms it, or not.
                    found = store.add(
                        connection,
                        email=email,
                        name="",
                        locale=sign_up.locale,
                        topics=sign_up.topics,
                        consent=None,
                    )
                nonce = sign_ups.request(connection, found, sign_up, RESEND_AFTER)
                if nonce is None:
                    return None
                # Counted only for a mail about to go: whoever asks, one address gets
                # few. The answer stays the same, so it tells nobody the address is known.
                if context.limiter.take_in(connection, "mails_to_address", email) is not None:
                    log.info("a confirmation mail was not sent: the address had its share")
                    attempt.rollback()
                    return None
    except sa.exc.IntegrityError:
        # The same new address signed up at the same moment: that sign-up sends the mail.
        return None
    token = make_confirm_token(context.secret_key, found.id, nonce)
    url = f"{context.config.site.url}/confirm/{token}"
    return ConfirmationMail(email, sign_up.locale, url)


async def _send(context: WebContext, mail: ConfirmationMail) -> None:
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
