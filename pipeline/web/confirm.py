"""`/confirm/{token}`: the second step of the double opt-in.

Opening the mailed link (GET or HEAD, as mail scanners do on delivery) only shows a page
with a button and changes nothing; pressing the button POSTs the form back, and that
confirms, recording consent at that moment. The form carries a form token bound to the
link's own path, so no cookie is needed and no other page can post it. The link carries
the nonce of one sign-up (see `subscribers.sign_ups`): it works once, and not for a later
sign-up. Used, replaced or expired, it says so and what to do.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.report.retention import anonymise_reader
from pipeline.tokens import (
    ConfirmLink,
    ExpiredToken,
    InvalidToken,
    check_form_token,
    make_form_token,
    read_confirm_token,
)
from pipeline.web.context import WebContext, client_address, context_of
from pipeline.web.pages import invalid_link, message_page, page_locale, render_page
from subscribers import sign_ups, store

CONFIRM = "/confirm"


def _max_age(context: WebContext) -> timedelta:
    return timedelta(days=context.config.subscriptions.confirm_expiry_days)


def _read_link(request: Request, locale: str) -> ConfirmLink | Response:
    """The link's sign-up, or the page that explains why the link does not work."""
    context = context_of(request)
    gettext = translations(locale).gettext
    max_age = _max_age(context)
    try:
        return read_confirm_token(context.secret_key, request.path_params["token"], max_age)
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


async def confirm_page(request: Request) -> Response:
    """GET and HEAD: the button, if the link's sign-up still waits. Nothing is written."""
    link = _read_link(request, page_locale(request))
    if isinstance(link, Response):
        return link
    context = context_of(request)
    state, name, chosen = await run_in_threadpool(_link_state, context, link)
    locale = page_locale(request, chosen)
    if state != "waiting":
        return _outcome_page(request, locale, state)
    path = f"{CONFIRM}/{request.path_params['token']}"
    values: dict[str, object] = {
        "csrf": make_form_token(context.secret_key, path),
        "action": path,
        # Whoever filled in the sign-up form typed it: the reader sees it and may change it.
        "name": name,
    }
    return render_page(request, "confirm.html.j2", locale, values)


async def confirm(request: Request) -> Response:
    """POST from the page's button: apply the sign-up and record consent now."""
    link = _read_link(request, page_locale(request))
    if isinstance(link, Response):
        return link
    context = context_of(request)
    _, _, chosen = await run_in_threadpool(_link_state, context, link)
    locale = page_locale(request, chosen)
    form = await request.form()
    path = f"{CONFIRM}/{request.path_params['token']}"
    try:
        check_form_token(context.secret_key, str(form.get("csrf", "")), path, _max_age(context))
    except InvalidToken:
        gettext = translations(locale).gettext
        return message_page(
            request,
            locale,
            gettext("Nothing was confirmed"),
            gettext("Please open the link from the mail again and press its button."),
            status_code=400,
        )
    name = confirmed_name(str(form.get("name", "")))
    outcome = await run_in_threadpool(_confirm, context, link, client_address(request), name)
    return _outcome_page(request, locale, outcome)


def _outcome_page(request: Request, locale: str, outcome: str) -> Response:
    gettext = translations(locale).gettext
    if outcome == "confirmed":
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
    title, text = (
        gettext("This link has been used"),
        gettext("This link no longer works. To receive the newsletter, please sign up again."),
    )
    return message_page(request, locale, title, text, status_code=410)


def confirmed_name(typed: str) -> str:
    """The name field as the reader left it: one line of printable text, at most 200."""
    printable = "".join(character if character.isprintable() else " " for character in typed)
    return " ".join(printable.split())[:200]


def _link_state(context: WebContext, link: ConfirmLink) -> tuple[str, str, str | None]:
    """The link's state; while it waits, the name its sign-up form was given; and the
    language its reader chose."""
    with context.engine.connect() as connection:
        state = sign_ups.link_state(connection, link.subscriber_id, link.nonce)
        name = sign_ups.waiting_name(connection, link.subscriber_id, link.nonce)
        locale = sign_ups.link_locale(connection, link.subscriber_id, link.nonce)
    return state, name or "", locale


def _confirm(context: WebContext, link: ConfirmLink, ip: str, name: str) -> str:
    with context.engine.begin() as connection:
        outcome = sign_ups.confirm(
            connection, link.subscriber_id, link.nonce, context.clock(), ip, name=name
        )
        if outcome == "confirmed" and store.stats_consent(connection, link.subscriber_id) is None:
            # A new sign-up without personalised statistics: no click names them any more.
            anonymise_reader(connection, link.subscriber_id)
        return outcome


routes = [
    Route(f"{CONFIRM}/{{token}}", confirm_page, methods=["GET"]),
    Route(f"{CONFIRM}/{{token}}", confirm, methods=["POST"]),
]
