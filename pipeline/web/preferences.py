"""`GET/POST /preferences/{token}`: a subscriber's topics and language."""

from __future__ import annotations

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.render.i18n import translations
from pipeline.tokens import InvalidToken, TokenMaker, check_form_token, make_form_token, read_link
from pipeline.web.context import WebContext, context_of
from pipeline.web.pages import LOCALES, invalid_link, message_page, page_locale, render_page
from pipeline.web.statistics_consent import statistics_section
from subscribers import store

FORM_MAX_AGE = timedelta(hours=12)
# The field of "Receive all topics": an empty choice that means every topic, on purpose.
ALL_TOPICS = "all_topics"


def _subscriber(request: Request) -> store.Subscriber | None:
    context = context_of(request)
    try:
        subscriber_id = read_link(
            context.secret_key, "preferences", request.path_params["token"]
        ).subscriber_id
    except InvalidToken:
        return None
    with context.engine.connect() as connection:
        return store.get(connection, subscriber_id)


def _unsubscribe_token(request: Request, subscriber_id: int) -> str:
    """The page's unsubscribe link names the issue the preferences link came from (if it
    did), so leaving from here is counted for that issue as the mail's own link is."""
    context = context_of(request)
    issue = read_link(context.secret_key, "preferences", request.path_params["token"]).issue
    return TokenMaker(context.secret_key, "unsubscribe", issue=issue)(subscriber_id)


async def preferences_page(request: Request) -> Response:
    subscriber = await run_in_threadpool(_subscriber, request)
    if subscriber is None:
        return invalid_link(request, page_locale(request))
    return _page(request, subscriber, await statistics_section(request, subscriber.id), saved=False)


def _page(
    request: Request, subscriber: store.Subscriber, statistics: dict[str, object], *, saved: bool
) -> Response:
    context = context_of(request)
    locale = page_locale(request, subscriber.locale)
    site_url = context.config.site.url
    unsubscribe_token = _unsubscribe_token(request, subscriber.id)
    return render_page(
        request,
        "preferences.html.j2",
        locale,
        {
            "action": request.url.path,
            "csrf": make_form_token(context.secret_key, request.url.path),
            "topics": context.config.topics,
            "chosen": subscriber.topics,
            "subscriber_locale": subscriber.locale,
            "address": subscriber.email,
            "saved": saved,
            "unsubscribe_url": f"{site_url}/unsubscribe/{unsubscribe_token}",
            "analytics": context.config.analytics,
            "statistics": statistics,
        },
    )


async def save_preferences(request: Request) -> Response:
    context = context_of(request)
    subscriber = await run_in_threadpool(_subscriber, request)
    if subscriber is None:
        return invalid_link(request, page_locale(request))
    locale = page_locale(request, subscriber.locale)
    form = await request.form()
    try:
        check_form_token(
            context.secret_key, str(form.get("csrf", "")), request.url.path, FORM_MAX_AGE
        )
    except InvalidToken:
        gettext = translations(locale).gettext
        return message_page(
            request,
            locale,
            gettext("Nothing changed"),
            gettext("The form has expired. Please send it again."),
            status_code=400,
        )
    known = {topic.key for topic in context.config.topics}
    topics = [t for t in form.getlist("topics") if isinstance(t, str) and t in known]
    chosen_locale = str(form.get("locale", subscriber.locale))
    if chosen_locale not in LOCALES:
        chosen_locale = subscriber.locale
    if not topics and known and form.get(ALL_TOPICS) != "yes":
        # No box ticked would mean every topic: ask what the reader meant instead.
        return _no_topic_page(request, subscriber, locale, chosen_locale)
    await run_in_threadpool(_save, context, subscriber.id, topics, chosen_locale)
    updated = await run_in_threadpool(_subscriber, request)
    assert updated is not None
    return _page(request, updated, await statistics_section(request, updated.id), saved=True)


def _no_topic_page(
    request: Request, subscriber: store.Subscriber, locale: str, chosen_locale: str
) -> Response:
    context = context_of(request)
    unsubscribe_token = _unsubscribe_token(request, subscriber.id)
    return render_page(
        request,
        "no_topic.html.j2",
        locale,
        {
            "action": request.url.path,
            "csrf": make_form_token(context.secret_key, request.url.path),
            "chosen_locale": chosen_locale,
            "all_topics": ALL_TOPICS,
            # Relative: the page's policy lets its forms post to this site only.
            "unsubscribe_action": f"/unsubscribe/{unsubscribe_token}",
        },
    )


def _save(context: WebContext, subscriber_id: int, topics: list[str], locale: str) -> None:
    with context.engine.begin() as connection:
        store.set_preferences(connection, subscriber_id, topics=topics, locale=locale)


routes = [
    Route("/preferences/{token}", preferences_page, methods=["GET"]),
    Route("/preferences/{token}", save_preferences, methods=["POST"]),
]
