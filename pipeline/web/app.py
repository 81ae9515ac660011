"""The Starlette app of `newsletter serve`, composed from one route list per concern.

A new concern is a module with a `routes` list, added to ROUTE_MODULES.
"""

from __future__ import annotations

import re
from types import ModuleType

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from pipeline.config import Config
from pipeline.tokens import SecretKeys
from pipeline.web import (
    archive,
    confirm,
    desk,
    events,
    health,
    preferences,
    subscribe,
    unsubscribe,
)
from pipeline.web.context import (
    RateLimiter,
    WebContext,
    sns_certificate_pattern,
    webhook_secrets_from_env,
)
from pipeline.web.webhooks import routes as webhooks

ROUTE_MODULES: list[ModuleType] = [
    subscribe,
    confirm,
    unsubscribe,
    preferences,
    archive,
    events,
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
) -> Starlette:
    """The app; `sns_certificate_url` replaces the region's SNS host only in tests."""
    subscriptions = config.subscriptions
    context = WebContext(
        config=config,
        engine=engine,
        secret_key=secret_key,
        webhook_secrets=(
            webhook_secrets_from_env() if webhook_secrets is None else webhook_secrets
        ),
        sns_certificate_url=sns_certificate_url or sns_certificate_pattern(config.provider.region),
        rate_limiter=RateLimiter(subscriptions.rate_limit, subscriptions.rate_limit_window_s),
    )
    app = Starlette(routes=compose_routes(ROUTE_MODULES))
    app.state.context = context
    return app
