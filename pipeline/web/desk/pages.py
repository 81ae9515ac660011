"""What every desk page shares: the session, the form tokens, and rendering.

A session is a row on the server (`sessions`) that the cookie names; it counts only
while the address is still listed in `editors:`, checked on every request. Every form
carries a token bound to the session, so a form posted from another site, for another
editor or from a session that has ended is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pipeline.config import Config
from pipeline.render.environment import make_environment, render_template
from pipeline.render.i18n import translations
from pipeline.tokens import InvalidToken, check_form_token, make_form_token
from pipeline.web.context import context_of
from pipeline.web.desk.labels import labels
from pipeline.web.desk.sessions import DeskSession, find_session
from pipeline.web.pages import page_locale
from subscribers.addresses import InvalidAddress, listed

DESK = "/desk"
SESSION_COOKIE = "desk_session"
FORM_MAX_AGE = timedelta(hours=12)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'self' https: data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Page = Callable[[Request, str], Awaitable[Response]]
Action = Callable[[Request, str, FormData], Awaitable[Response]]


def listed_editor(config: Config, address: str) -> str | None:
    """The entry of `editors:` that is the same mailbox as `address`, as written there.

    Addresses are compared by their normal form (`subscribers.addresses`), never folded
    further: `anna@preße-netzwerk.de` is not `anna@presse-netzwerk.de`.
    """
    try:
        return listed(address, [str(editor) for editor in config.editors])
    except InvalidAddress:
        return None


def is_editor(config: Config, address: str) -> bool:
    return listed_editor(config, address) is not None


def session_of(request: Request) -> DeskSession | None:
    """The request's live session of a listed editor, or None."""
    context = context_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    session = find_session(context.engine, context.secret_key, cookie, context.clock())
    if session is None or not is_editor(context.config, session.editor):
        return None
    return session


async def _signed_in(request: Request) -> DeskSession | None:
    session = await run_in_threadpool(session_of, request)
    request.state.desk_session = session
    return session


def current_session(request: Request) -> DeskSession:
    """The session a guarded page or action runs in."""
    session: DeskSession = request.state.desk_session
    return session


def _form_path(session: DeskSession) -> str:
    return f"{DESK}#{session.csrf_binding}"


def csrf_token(request: Request) -> str:
    return make_form_token(context_of(request).secret_key, _form_path(current_session(request)))


def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    """A page for signed-in editors; anyone else is sent to the sign-in form."""

    async def guarded(request: Request) -> Response:
        session = await _signed_in(request)
        if session is None:
            locale = page_locale(request)
            return RedirectResponse(f"{DESK}/sign-in?lang={locale}", status_code=303)
        return await handler(request, session.editor)

    return guarded


def action(handler: Action) -> Callable[[Request], Awaitable[Response]]:
    """A form post of a signed-in editor: 401 without a session, 403 without its token."""

    async def guarded(request: Request) -> Response:
        locale = page_locale(request)
        gettext = translations(locale).gettext
        session = await _signed_in(request)
        if session is None:
            return message(
                request,
                gettext("Please sign in"),
                gettext("Your session has ended. Please sign in again."),
                status_code=401,
            )
        form = await request.form()
        try:
            check_form_token(
                context_of(request).secret_key,
                str(form.get("csrf", "")),
                _form_path(session),
                FORM_MAX_AGE,
            )
        except InvalidToken:
            return message(
                request,
                gettext("The form has expired"),
                gettext("Please go back, reload the page and send the form again."),
                status_code=403,
            )
        return await handler(request, session.editor, form)

    return guarded


def render(
    request: Request,
    template: str,
    values: dict[str, object],
    *,
    editor: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    context = context_of(request)
    locale = page_locale(request)
    body = render_template(
        make_environment(locale, timezone=context.config.site.timezone),
        f"desk/{template}",
        {
            "site": context.config.site,
            "locale": locale,
            "editor": editor,
            "csrf": csrf_token(request) if editor else "",
            "labels": labels(locale),
            "path": request.url.path,
            # The language switch reloads the page: a posted form's page falls back to the queue.
            "switch_path": request.url.path if request.method == "GET" else DESK,
            **values,
        },
    )
    return HTMLResponse(body, status_code=status_code, headers=HEADERS)


def message(request: Request, title: str, text: str, status_code: int = 200) -> HTMLResponse:
    values: dict[str, object] = {"title": title, "text": text}
    return render(request, "message.html.j2", values, editor=None, status_code=status_code)


def back_to(request: Request, path: str, query: str = "") -> RedirectResponse:
    """Redirect to a desk page in the same language; `query` names its notice."""
    extra = f"&{query}" if query else ""
    return RedirectResponse(f"{path}?lang={page_locale(request)}{extra}", status_code=303)
