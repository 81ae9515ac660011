"""`GET/POST /unsubscribe/{token}`: one button, and RFC 8058 one-click unsubscribe.

Mail clients POST `List-Unsubscribe=One-Click` to the URL of the List-Unsubscribe header,
without cookies or JavaScript, so the signed token in the URL is the whole authority.
The subscriber's pending deliveries are cancelled in the same transaction.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.send.reader_changes import unsubscribe as unsubscribe_reader
from pipeline.tokens import InvalidToken, read_token
from pipeline.web.context import WebContext, context_of
from pipeline.web.pages import invalid_link, message_page, page_locale, render_page

ONE_CLICK = "One-Click"


def _subscriber_id(request: Request) -> int | None:
    try:
        return read_token(
            context_of(request).secret_key, "unsubscribe", request.path_params["token"]
        )
    except InvalidToken:
        return None


async def unsubscribe_page(request: Request) -> Response:
    subscriber_id = _subscriber_id(request)
    locale = page_locale(request)
    if subscriber_id is None:
        return invalid_link(request, locale)
    return render_page(request, "unsubscribe.html.j2", locale, {"action": request.url.path})


async def unsubscribe(request: Request) -> Response:
    subscriber_id = _subscriber_id(request)
    locale = page_locale(request)
    if subscriber_id is None:
        return invalid_link(request, locale)
    form = await request.form()
    gettext = translations(locale).gettext
    if form.get("List-Unsubscribe") != ONE_CLICK:
        return message_page(
            request,
            locale,
            gettext("Nothing changed"),
            gettext("The request did not ask to unsubscribe."),
            status_code=400,
        )
    await run_in_threadpool(_unsubscribe, context_of(request), subscriber_id)
    return message_page(
        request,
        locale,
        gettext("You are unsubscribed"),
        gettext("You will receive no more issues of this newsletter."),
    )


def _unsubscribe(context: WebContext, subscriber_id: int) -> None:
    with context.engine.begin() as connection:
        unsubscribe_reader(connection, subscriber_id, "unsubscribe link")


routes = [
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"]),
]
