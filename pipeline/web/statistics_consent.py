"""`POST /preferences/{token}/statistics`: give or withdraw the optional consent to
personalised statistics, from the reader's preferences page.

Withdrawing anonymises at once every click and open that named the reader, in the same
transaction as the withdrawal; giving it applies to the mails sent from then on.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.report.retention import anonymise_reader
from pipeline.tokens import InvalidToken, check_form_token, make_form_token, read_token
from pipeline.web.context import WebContext, context_of
from pipeline.web.pages import invalid_link, message_page, page_locale
from subscribers import store

FORM_MAX_AGE = timedelta(hours=12)
CHOICES = ("give", "withdraw")
# `?saved=statistics` on the preferences page: the choice was saved (after the redirect).
SAVED = "statistics"


async def statistics_section(request: Request, subscriber_id: int) -> dict[str, object]:
    """What the preferences page shows of the consent: whether it is given, and the form
    that gives or withdraws it. Shown while something is counted, or while it is given."""
    context = context_of(request)
    agreed = await run_in_threadpool(_agreed, context, subscriber_id)
    analytics = context.config.analytics
    action = f"{request.url.path}/statistics"
    return {
        "shown": analytics.clicks or analytics.opens or agreed is not None,
        "agreed": agreed,
        "action": action,
        "csrf": make_form_token(context.secret_key, action),
        "saved": request.query_params.get("saved") == SAVED,
    }


def _agreed(context: WebContext, subscriber_id: int) -> store.StatsConsent | None:
    with context.engine.connect() as connection:
        return store.stats_consent(connection, subscriber_id)


async def change_statistics(request: Request) -> Response:
    context = context_of(request)
    token = request.path_params["token"]
    try:
        subscriber_id = read_token(context.secret_key, "preferences", token)
    except InvalidToken:
        return invalid_link(request, page_locale(request))
    subscriber = await run_in_threadpool(_subscriber, context, subscriber_id)
    if subscriber is None:
        return invalid_link(request, page_locale(request))
    locale = page_locale(request, subscriber.locale)
    gettext = translations(locale).gettext
    form = await request.form()
    choice = form.get("statistics")
    try:
        check_form_token(
            context.secret_key, str(form.get("csrf", "")), request.url.path, FORM_MAX_AGE
        )
    except InvalidToken:
        text = gettext("The form has expired. Please send it again.")
        return message_page(request, locale, gettext("Nothing changed"), text, status_code=400)
    if choice not in CHOICES:
        text = gettext("Please choose whether to give or withdraw the consent.")
        return message_page(request, locale, gettext("Nothing changed"), text, status_code=400)
    await run_in_threadpool(_change, context, subscriber_id, choice == "give")
    return RedirectResponse(f"/preferences/{token}?lang={locale}&saved={SAVED}", status_code=303)


def _subscriber(context: WebContext, subscriber_id: int) -> store.Subscriber | None:
    with context.engine.connect() as connection:
        return store.get(connection, subscriber_id)


def _change(context: WebContext, subscriber_id: int, give: bool) -> None:
    how = "preferences page"
    with context.engine.begin() as connection:
        if give:
            if store.stats_consent(connection, subscriber_id) is None:  # not twice
                version = context.config.analytics.consent_text_version
                store.give_stats_consent(connection, subscriber_id, context.clock(), version, how)
        elif store.withdraw_stats_consent(connection, subscriber_id, how):
            anonymise_reader(connection, subscriber_id)


routes = [Route("/preferences/{token}/statistics", change_statistics, methods=["POST"])]
