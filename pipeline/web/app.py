"""The Starlette app of `newsletter serve`, composed from one route list per concern.

A new concern is a module with a `routes` list, added to ROUTE_MODULES.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from pipeline.config import Config
from pipeline.render.i18n import translations
from pipeline.tokens import SecretKeys
from pipeline.web import (
    archive,
    confirm,
    desk,
    events,
    health,
    media,
    preferences,
    r,
    statistics_consent,
    submit,
    subscribe,
    unsubscribe,
)
from pipeline.web.api.app import PREFIX as API_PREFIX
from pipeline.web.api.app import build_api
from pipeline.web.api.problems import http_problem
from pipeline.web.click_recorder import ClickRecorder
from pipeline.web.context import (
    BUSY_RETRY_AFTER_S,
    WebContext,
    sns_certificate_pattern,
    webhook_secrets_from_env,
)
from pipeline.web.desk.editors import RELOAD_EVERY_S, editors_watched
from pipeline.web.issue_links import IssueLinks
from pipeline.web.limits import Limiter, limits_of
from pipeline.web.pages import message_page, page_locale
from pipeline.web.webhooks import routes as webhooks

log = logging.getLogger(__name__)

# Tracked links first: the route most often asked for is matched without trying the others.
ROUTE_MODULES: list[ModuleType] = [
    r,
    subscribe,
    submit,
    confirm,
    unsubscribe,
    preferences,
    statistics_consent,
    archive,
    events,
    media,
    health,
    webhooks,
    desk,
]


def compose_routes(modules: list[ModuleType]) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for module in modules:
        found.extend(module.routes)
    return found


def create_app(
    config: Config,
    engine: sa.Engine,
    secret_key: SecretKeys,
    *,
    webhook_secrets: dict[str, str | None] | None = None,
    sns_certificate_url: re.Pattern[str] | None = None,
    config_path: Path | None = None,
    editors_reload_s: float = RELOAD_EVERY_S,
    local_url: str | None = None,
) -> Starlette:
    """The app; `sns_certificate_url` replaces the region's SNS host only in tests.

    With `config_path`, the editors' list is re-read from it while the app runs (`serve`).
    `local_url` (a development site's, see WebContext) shows sign-in links on the console.
    """
    context = WebContext(
        config=config,
        engine=engine,
        secret_key=secret_key,
        webhook_secrets=(
            webhook_secrets_from_env() if webhook_secrets is None else webhook_secrets
        ),
        sns_certificate_url=sns_certificate_url or sns_certificate_pattern(config.provider.region),
        limiter=Limiter(engine, limits_of(config)),
        local_url=local_url,
        links=IssueLinks(engine),
        clicks=ClickRecorder(engine, config.analytics.scanner_window_s),
    )
    # The one place that decides whose X-Forwarded-For counts: `serve` turns uvicorn's off.
    proxies = Middleware(
        ProxyHeadersMiddleware,
        trusted_hosts=[str(network) for network in config.site.trusted_proxies],
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(run_in_threadpool, context.mails.close)
            stack.push_async_callback(context.clicks.close)
            if config_path is not None:
                await stack.enter_async_context(
                    editors_watched(context, config_path, editors_reload_s)
                )
            yield

    app = Starlette(
        routes=[*compose_routes(ROUTE_MODULES), Mount(API_PREFIX, app=build_api(context))],
        middleware=[proxies],
        exception_handlers={sa.exc.OperationalError: database_busy, 404: page_not_found},
        lifespan=lifespan,
    )
    app.state.context = context
    return app


async def database_busy(request: Request, exc: Exception) -> Response:
    """A locked SQLite (a send writing) or an unreachable PostgreSQL: 503, try again soon.

    A busy database is the server's passing state, not the client's fault, and never a 500.
    """
    log.warning("the database was busy or unreachable: %s", type(exc).__name__)
    locale = page_locale(request)
    gettext = translations(locale).gettext
    return message_page(
        request,
        locale,
        gettext("The site is busy"),
        gettext("Nothing was changed. Please try again in a moment."),
        status_code=503,
        retry_after_s=BUSY_RETRY_AFTER_S,
    )


async def page_not_found(request: Request, exc: Exception) -> Response:
    """An address that names no page: say so, and lead to the archive and the sign-up.

    Under the API's prefix the answer is the API's problem document, also for a path the
    mount did not match (Starlette's mount pattern stops at a newline, `%0A`)."""
    if request.url.path == API_PREFIX or request.url.path.startswith(f"{API_PREFIX}/"):
        return await http_problem(request, HTTPException(404))
    locale = page_locale(request)
    gettext = translations(locale).gettext
    return message_page(
        request,
        locale,
        gettext("Page not found"),
        gettext("There is no page at this address."),
        status_code=404,
        link=(gettext("To the archive and the sign-up"), f"/archive?lang={locale}"),
    )
