"""HTML pages of the web endpoints: the same Jinja2 environment and catalog as the mails."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from pipeline.render.environment import make_environment, render_template
from pipeline.render.i18n import SOURCE_LOCALE, translations
from pipeline.web.context import context_of

LOCALES = ("de", "en")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# A page that shows an issue's HTML (the archive, the desk's preview) has no form of its own:
# should markup from a feed ever get past the sanitiser, it can neither post anywhere nor
# load or run anything, nor change where relative links point.
ISSUE_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'none'; base-uri 'none'"
)


def page_locale(request: Request, preferred: str | None = None) -> str:
    """`?lang=`, else the subscriber's own locale, else the browser's, else the site's."""
    asked = request.query_params.get("lang")
    if asked in LOCALES:
        return asked
    if preferred in LOCALES:
        return preferred
    for part in request.headers.get("accept-language", "").split(","):
        language = part.split(";")[0].strip().lower()[:2]
        if language in LOCALES:
            return language
    return context_of(request).config.site.locale or SOURCE_LOCALE


def render_page(
    request: Request,
    template: str,
    locale: str,
    values: dict[str, object],
    status_code: int = 200,
) -> HTMLResponse:
    site = context_of(request).config.site
    environment = make_environment(locale)
    body = render_template(
        environment, f"web/{template}", {"site": site, "locale": locale, **values}
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def message_page(
    request: Request,
    locale: str,
    title: str,
    text: str,
    status_code: int = 200,
    retry_after_s: int | None = None,
) -> HTMLResponse:
    """A page that says one thing: a confirmation, an expired link, a refused form; with
    `retry_after_s`, when to come back (a 429 or 503)."""
    page = render_page(
        request, "message.html.j2", locale, {"title": title, "text": text}, status_code
    )
    if retry_after_s is not None:
        page.headers["Retry-After"] = str(retry_after_s)
    return page


def invalid_link(request: Request, locale: str) -> HTMLResponse:
    gettext = translations(locale).gettext
    return message_page(
        request,
        locale,
        gettext("This link is not valid"),
        gettext("Please use the complete link from the mail, or sign up again."),
        status_code=400,
    )
