"""`GET /confirm/{token}`: the second step of the double opt-in.

The link works once: it activates a pending subscriber; used again, or after it has
expired, it says so and what to do.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.tokens import ExpiredToken, InvalidToken, read_confirm_token
from pipeline.web.context import WebContext, context_of
from pipeline.web.pages import invalid_link, message_page, page_locale
from subscribers import store, suppression


async def confirm(request: Request) -> Response:
    context = context_of(request)
    locale = page_locale(request)
    gettext = translations(locale).gettext
    max_age = timedelta(days=context.config.subscriptions.confirm_expiry_days)
    try:
        subscriber_id = read_confirm_token(
            context.secret_key, request.path_params["token"], max_age
        )
    except ExpiredToken:
        return message_page(
            request,
            locale,
            gettext("This link has expired"),
            gettext("Confirmation links are valid for %(days)s days. Please sign up again.")
            % {"days": f"{max_age.days}"},
            status_code=410,
        )
    except InvalidToken:
        return invalid_link(request, locale)
    outcome = await run_in_threadpool(_activate, context, subscriber_id)
    if outcome == "activated":
        title, text = (
            gettext("Subscription confirmed"),
            gettext("Thank you! You will receive the next issue."),
        )
        return message_page(request, locale, title, text)
    if outcome == "already active":
        title, text = (
            gettext("Already confirmed"),
            gettext("This link has been used already: your subscription is active."),
        )
        return message_page(request, locale, title, text)
    if outcome == "used":
        title, text = (
            gettext("This link has been used"),
            gettext("This link no longer works. To receive the newsletter, please sign up again."),
        )
        return message_page(request, locale, title, text, status_code=410)
    return invalid_link(request, locale)


def _activate(context: WebContext, subscriber_id: int) -> str:
    with context.engine.begin() as connection:
        subscriber = store.get(connection, subscriber_id)
        if subscriber is None:
            return "unknown"
        if subscriber.state == "active":
            return "already active"
        if subscriber.state != "pending":
            return "used"
        # A new, confirmed opt-in is the one thing that may lift an erasure's suppression.
        if suppression.reason_for(connection, subscriber.email) in suppression.LIFTED_BY_OPT_IN:
            suppression.lift(connection, subscriber.email)
        store.set_state(connection, subscriber_id, "active", "confirmed (double opt-in link)")
    return "activated"


routes = [Route("/confirm/{token}", confirm, methods=["GET"])]
