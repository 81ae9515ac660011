"""Bearer tokens and their scopes, checked on every request, with the per-token rate limit.

A wrong, revoked or missing token is a 401 and a token without the scope a 403; neither
says which part was wrong. A `subscribers:signup` token sits in a public web page: when
a browser sends it, the page's Origin must be one of `api.cors_origins`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from pipeline.api_tokens import ApiToken, find_token
from pipeline.web.api.problems import ApiProblem
from pipeline.web.context import WebContext, context_of

bearer = HTTPBearer(auto_error=False, description="A token from `newsletter api tokens create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
RATE_LIMIT = "api"
SIGNUP = "subscribers:signup"
# Marks an operation (openapi_extra) whose token is optional: "no token" is then one of
# its security requirements in the document.
OPTIONAL_TOKEN = "x-token-optional"  # noqa: S105 (a name, not a secret)


@dataclass(frozen=True)
class Caller:
    token: ApiToken
    context: WebContext


def unauthorised() -> ApiProblem:
    return ApiProblem(
        401,
        "A valid bearer token is needed (Authorization: Bearer nlapi_...).",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    context = context_of(request)
    if credentials is None:
        raise unauthorised()
    with context.engine.begin() as connection:
        token = find_token(connection, credentials.credentials, context.clock())
        if token is None:
            raise unauthorised()
        wait, left = context.limiter.take_counted(connection, RATE_LIMIT, f"token:{token.id}")
    _note_rate_limit(request, context, left)
    if wait is not None:
        raise ApiProblem(
            429,
            f"This token made too many requests; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    if token.scopes == {SIGNUP}:
        origin = request.headers.get("origin")
        if origin is not None and origin not in context.config.api.cors_origins:
            raise ApiProblem(403, "This token may not be used from this web page's origin.")
    return Caller(token, context)


def _note_rate_limit(request: Request, context: WebContext, left: int) -> None:
    """RateLimit headers (draft-ietf-httpapi-ratelimit-headers), added by the edge."""
    limit = context.limiter.limits[RATE_LIMIT]
    full_in = math.ceil((limit.count - left) * limit.window_s / limit.count)
    request.state.rate_limit = {
        "RateLimit-Policy": f'"token";q={limit.count};w={math.ceil(limit.window_s)}',
        "RateLimit": f'"token";r={left};t={full_in}',
    }


def required(
    request: Request,
    security_scopes: SecurityScopes,
    credentials: Credentials,
) -> Caller:
    """The caller, if its token has one of the scopes the endpoint names.

    Used as `Security(required, scopes=[...])`: the scopes then appear in the OpenAPI
    document too (one security requirement each: any of them will do).
    """
    found = authenticated(request, credentials)
    if not found.token.scopes & set(security_scopes.scopes):
        raise ApiProblem(403, "This token does not have the scope this operation needs.")
    return found


def optional_caller(request: Request, credentials: Credentials) -> Caller | None:
    """The caller when a token came, else None (for `/health`, open to all); an
    Authorization header that holds no valid token is still a 401."""
    if credentials is None and "authorization" not in request.headers:
        return None
    return authenticated(request, credentials)
