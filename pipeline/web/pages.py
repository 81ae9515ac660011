"""HTML pages of the web endpoints: the same Jinja2 environment and catalog as the mails."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from pipeline.render.environment import make_environment, render_template
from pipeline.render.i18n import SOURCE_LOCALE, translations
from pipeline.web.context import context_of

LOCALE_NAMES = {"de": "Deutsch", "en": "English"}
LOCALES = tuple(LOCALE_NAMES)
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
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "form-action 'none'; base-uri 'none'"
)


def page_locale(request: Request, preferred: str | None = None) -> str:
    """`?lang=`, else the subscriber's own locale, else the browser's, else the site's."""
    asked = request.query_params.get("lang")
    if asked in LOCALES:
        return asked
    if preferred in LOCALES:
        return preferred
    accepted = accepted_locale(request.headers.get("accept-language", ""))
    return accepted or context_of(request).config.site.locale or SOURCE_LOCALE


def accepted_locale(header: str) -> str | None:
    """The locale an Accept-Language header weighs highest (RFC 9110 q-values); None for
    none of ours. Of equal weights the one named first wins; `q=0` means "not this"."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")):
        language, _, parameters = part.partition(";")
        code = language.strip().lower().split("-")[0]
        if code not in LOCALES:
            continue
        weight = _weight(parameters)
        if weight is None or weight <= 0:
            continue
        if best is None or (weight, -position) > (best[0], best[1]):
            best = (weight, -position, code)
    return None if best is None else best[2]


def _weight(parameters: str) -> float | None:
    """The `q=` of a language range's parameters, 1 without one; None when unreadable."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return None
    return 1.0


def language_links(request: Request) -> list[dict[str, str]]:
    """The page itself in each language: the switch in every page's footer (no script)."""
    links = []
    for code, name in LOCALE_NAMES.items():
        query = {**request.query_params, "lang": code}
        links.append({"code": code, "name": name, "url": f"{request.url.path}?{urlencode(query)}"})
    return links


def render_page(
    request: Request,
    template: str,
    locale: str,
    values: dict[str, object],
    status_code: int = 200,
) -> HTMLResponse:
    site = context_of(request).config.site
    environment = make_environment(locale, timezone=site.timezone)
    body = render_template(
        environment,
        f"web/{template}",
        {"site": site, "locale": locale, "languages": language_links(request), **values},
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def message_page(
    request: Request,
    locale: str,
    title: str,
    text: str,
    status_code: int = 200,
    retry_after_s: int | None = None,
    link: tuple[str, str] | None = None,
) -> HTMLResponse:
    """A page that says one thing: a confirmation, an expired link, a refused form; with
    `retry_after_s`, when to come back (a 429 or 503); with `link` (text, URL), where to
    go next."""
    values: dict[str, object] = {"title": title, "text": text, "link": link}
    page = render_page(request, "message.html.j2", locale, values, status_code)
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
