"""`GET/POST /unsubscribe/{token}`: one button, and RFC 8058 one-click unsubscribe.

Mail clients POST `List-Unsubscribe=One-Click` to the URL of the List-Unsubscribe header,
without cookies or JavaScript, so the signed token in the URL is the whole authority.
The subscriber's pending deliveries are cancelled in the same transaction. The token names
the issue whose mail carried it: the unsubscribe is counted for that issue; the page's
own button adds `from=page`, which tells it apart from a mail app's one-click.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.send import reader_changes
from pipeline.tokens import InvalidToken, ReaderLink, read_link
from pipeline.web.context import WebContext, context_of
from pipeline.web.pages import invalid_link, message_page, page_locale, render_page
from subscribers import store

ONE_CLICK = "One-Click"
FROM_PAGE = "page"
"""The `from` field of the pages' own unsubscribe forms (templates/web/unsubscribe.html.j2,
no_topic.html.j2)."""
# A subscriber in these states still gets (or is about to get) issues: the link asks first.
STILL_RECEIVING = ("active", "pending")


def _reader_link(request: Request) -> ReaderLink | None:
    try:
        return read_link(
            context_of(request).secret_key, "unsubscribe", request.path_params["token"]
        )
    except InvalidToken:
        return None


def _load(context: WebContext, subscriber_id: int) -> store.Subscriber | None:
    with context.engine.connect() as connection:
        return store.get(connection, subscriber_id)


async def unsubscribe_page(request: Request) -> Response:
    link = _reader_link(request)
    if link is None:
        return invalid_link(request, page_locale(request))
    subscriber = await run_in_threadpool(_load, context_of(request), link.subscriber_id)
    locale = page_locale(request, subscriber.locale if subscriber else None)
    if subscriber is None or subscriber.state not in STILL_RECEIVING:
        gettext = translations(locale).gettext
        return message_page(
            request,
            locale,
            gettext("You are already unsubscribed"),
            gettext("This address receives no more issues of this newsletter."),
            link=_subscribe_again(request, locale, subscriber),
        )
    return render_page(request, "unsubscribe.html.j2", locale, {"action": request.url.path})


async def unsubscribe(request: Request) -> Response:
    link = _reader_link(request)
    if link is None:
        return invalid_link(request, page_locale(request))
    form = await request.form()
    if form.get("List-Unsubscribe") != ONE_CLICK:
        locale = page_locale(request)
        gettext = translations(locale).gettext
        return message_page(
            request,
            locale,
            gettext("Nothing changed"),
            gettext("The request did not ask to unsubscribe."),
            status_code=400,
        )
    cause = reader_changes.PAGE if form.get("from") == FROM_PAGE else reader_changes.ONE_CLICK
    subscriber = await run_in_threadpool(_unsubscribe, context_of(request), link, cause)
    locale = page_locale(request, subscriber.locale if subscriber else None)
    gettext = translations(locale).gettext
    return message_page(
        request,
        locale,
        gettext("You are unsubscribed"),
        gettext("You will receive no more issues of this newsletter."),
        link=_subscribe_again(request, locale, subscriber),
    )


def _subscribe_again(
    request: Request, locale: str, subscriber: store.Subscriber | None
) -> tuple[str, str] | None:
    """The sign-up form with the address filled in: a new double opt-in, nothing more."""
    if subscriber is None or subscriber.state in ("bounced", "complained"):
        return None
    query = urlencode({"email": subscriber.email, "lang": locale})
    text = translations(locale).gettext("Unsubscribed by mistake? Subscribe again")
    return text, f"/subscribe?{query}"


def _unsubscribe(context: WebContext, link: ReaderLink, cause: str) -> store.Subscriber | None:
    with context.engine.begin() as connection:
        issue_id = reader_changes.issue_id_of(connection, link.issue)
        reader_changes.unsubscribe(connection, link.subscriber_id, cause, issue_id=issue_id)
        return store.get(connection, link.subscriber_id)


routes = [
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"]),
]
