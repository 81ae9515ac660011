"""`GET/POST /subscribe`: the sign-up form and the start of the double opt-in.

The answer to a sign-up is the same page whether the address was new, pending, active,
unsubscribed or suppressed, and the confirmation mail goes out after the answer, so
neither the page nor its timing tells whether an address was known.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.tokens import InvalidToken, check_form_token, make_confirm_token, make_form_token
from pipeline.web.confirmation import ConfirmationMail, send_confirmation
from pipeline.web.context import WebContext, client_address, context_of
from pipeline.web.pages import LOCALES, message_page, page_locale, render_page
from subscribers import store, suppression
from subscribers.addresses import InvalidAddress, normalise_address

log = logging.getLogger(__name__)
FORM_PATH = "/subscribe"
FORM_MAX_AGE = timedelta(hours=12)
# A pending address gets another confirmation mail at most this often, whoever asks.
RESEND_AFTER = timedelta(minutes=15)
HONEYPOT = "website"


async def subscribe_form(request: Request) -> Response:
    return _form(request, page_locale(request))


def _form(
    request: Request, locale: str, error: str = "", email: str = "", name: str = ""
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
    if not context.rate_limiter.allow(client_address(request)):
        return message_page(
            request,
            locale,
            gettext("Too many sign-ups"),
            gettext("Too many sign-ups came from your network. Please try again later."),
            status_code=429,
        )
    raw_email = str(form.get("email", ""))
    name = str(form.get("name", "")).strip()[:200]
    try:
        email = normalise_address(raw_email)
    except InvalidAddress:
        error = gettext("Please enter a valid email address.")
        return _form(request, locale, error, raw_email, name)
    if form.get("consent") != "yes":
        error = gettext("Please agree to receive the newsletter.")
        return _form(request, locale, error, raw_email, name)
    known_topics = {topic.key for topic in context.config.topics}
    topics = [t for t in form.getlist("topics") if isinstance(t, str) and t in known_topics]
    consent = store.Consent(
        "form",
        "sign-up form",
        context.clock(),
        text_version=context.config.subscriptions.consent_text_version,
        ip=client_address(request),
    )
    mail = await run_in_threadpool(_sign_up, context, email, name, locale, topics, consent)
    if mail is not None:
        thanks.background = BackgroundTask(_send, context, mail)
    return thanks


def _sign_up(
    context: WebContext,
    email: str,
    name: str,
    locale: str,
    topics: list[str],
    consent: store.Consent,
) -> ConfirmationMail | None:
    """Record the sign-up; returns the confirmation mail to send, or None to send nothing."""
    with context.engine.begin() as connection:
        found = store.find(connection, email)
        if found is None:
            reason = suppression.reason_for(connection, email)
            if reason is not None and reason not in suppression.LIFTED_BY_OPT_IN:
                return None
            found = store.add(
                connection,
                email=email,
                name=name,
                locale=locale,
                topics=topics,
                state="pending",
                consent=consent,
            )
        elif found.state == "unsubscribed":
            store.renew_consent(connection, found.id, consent)
            store.set_preferences(connection, found.id, topics=topics, locale=locale)
        elif found.state != "pending" or not store.claim_reminder(
            connection, found.id, consent.at, not_before=consent.at - RESEND_AFTER
        ):
            return None
    site_url = context.config.site.url
    token = make_confirm_token(context.secret_key, found.id)
    return ConfirmationMail(email, found.name or name, locale, f"{site_url}/confirm/{token}")


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
            "its way. The subscription starts once you click that link."
        ),
    )


routes = [
    Route(FORM_PATH, subscribe_form, methods=["GET"]),
    Route(FORM_PATH, subscribe, methods=["POST"]),
    Route(f"{FORM_PATH}/thanks", thanks, methods=["GET"]),
]
