"""What every desk page shares: the session, the form tokens, and rendering.

A session is a signed, timed cookie naming the editor; it counts only while the address
is still listed in `editors:`. Every form carries a token bound to the editor's session,
so a form posted from another site or for another editor is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pipeline.config import Config
from pipeline.render.environment import make_environment, render_template
from pipeline.render.i18n import translations
from pipeline.tokens import InvalidToken, SecretKeys, check_form_token, make_form_token
from pipeline.web.context import context_of
from pipeline.web.desk.labels import labels
from pipeline.web.pages import page_locale
from subscribers.addresses import InvalidAddress, listed

DESK = "/desk"
SESSION_COOKIE = "desk_session"
SESSION_MAX_AGE = timedelta(hours=12)
FORM_MAX_AGE = timedelta(hours=12)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src https: data:; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
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


def _sessions(secret_key: SecretKeys) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="newsletter.desk-session")


def make_session(secret_key: SecretKeys, address: str) -> str:
    return str(_sessions(secret_key).dumps(address))


def editor_of(request: Request) -> str | None:
    """The signed-in editor's address, or None."""
    context = context_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        address = _sessions(context.secret_key).loads(
            cookie, max_age=int(SESSION_MAX_AGE.total_seconds())
        )
    except BadSignature:
        return None
    if not isinstance(address, str) or not is_editor(context.config, address):
        return None
    return address


def csrf_token(request: Request, editor: str) -> str:
    return make_form_token(context_of(request).secret_key, f"{DESK}#{editor}")


def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    """A page for signed-in editors; anyone else is sent to the sign-in form."""

    async def guarded(request: Request) -> Response:
        editor = editor_of(request)
        if editor is None:
            locale = page_locale(request)
            return RedirectResponse(f"{DESK}/sign-in?lang={locale}", status_code=303)
        return await handler(request, editor)

    return guarded


def action(handler: Action) -> Callable[[Request], Awaitable[Response]]:
    """A form post of a signed-in editor: 401 without a session, 403 without its token."""

    async def guarded(request: Request) -> Response:
        locale = page_locale(request)
        gettext = translations(locale).gettext
        editor = editor_of(request)
        if editor is None:
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
                f"{DESK}#{editor}",
                FORM_MAX_AGE,
            )
        except InvalidToken:
            return message(
                request,
                gettext("The form has expired"),
                gettext("Please go back, reload the page and send the form again."),
                status_code=403,
            )
        return await handler(request, editor, form)

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
            "csrf": csrf_token(request, editor) if editor else "",
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


def back_to(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?lang={page_locale(request)}", status_code=303)
