"""The FastAPI app mounted at `/api/v1` in `serve`'s Starlette app.

Its OpenAPI document is generated from the routes; `openapi_document` adds what FastAPI
cannot say by itself: errors as `application/problem+json`, and an operation that any
one of several scopes may call as one security requirement each.
"""

from __future__ import annotations

from importlib.metadata import version
from types import ModuleType
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from pipeline.web.api import docs, health, issues, items, subscribers
from pipeline.web.api.auth import OPTIONAL_TOKEN
from pipeline.web.api.edge import ApiEdge
from pipeline.web.api.json import Json
from pipeline.web.api.problems import EXCEPTION_HANDLERS, MEDIA_TYPE, Problem
from pipeline.web.context import WebContext

PREFIX = "/api/v1"
# Each resource module has a `router`; its paths are relative to PREFIX.
RESOURCES: list[ModuleType] = [health, subscribers, items, issues, docs]
ERRORS = {
    400: "The request is malformed.",
    401: "No valid token (missing, wrong or revoked).",
    403: "The token lacks the scope, or the browser's origin is not allowed.",
    404: "Nothing is known by that (an id or number in the path).",
    413: "The request body is too large.",
    422: "A field is not as documented; `errors` names each.",
    429: "Too many requests; `Retry-After` says when to try again.",
    503: "The database is busy; try again after `Retry-After` seconds.",
}


def build_api(context: WebContext) -> FastAPI:
    api = FastAPI(
        title=f"{context.config.site.name}: newsletter API",
        version=version("newsletter-pipeline"),
        summary="Subscribers, items, issues and reports of the newsletter pipeline.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        default_response_class=Json,
        exception_handlers=dict(EXCEPTION_HANDLERS),  # type: ignore[arg-type]
        middleware=[
            Middleware(
                ApiEdge,
                max_body_bytes=context.config.api.max_body_bytes,
                cors_origins=context.config.api.cors_origins,
            )
        ],
        responses={
            status: {"model": Problem, "description": text} for status, text in ERRORS.items()
        },
    )
    for module in RESOURCES:
        api.include_router(module.router)
    api.state.context = context
    generated = api.openapi

    def document() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = openapi_document(generated())
        return api.openapi_schema

    api.openapi = document  # type: ignore[method-assign]
    return api


def openapi_document(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content[MEDIA_TYPE] = content.pop("application/json")
            security = operation.get("security")
            if security:
                operation["security"] = [alternative for r in security for alternative in _split(r)]
            if operation.pop(OPTIONAL_TOKEN, False):
                operation["security"] = [{}, *operation.get("security", [])]
    return document


def _split(requirement: dict[str, list[str]]) -> list[dict[str, list[str]]]:
    """`{bearer: [a, b]}` (FastAPI: all of them) -> `[{bearer: [a]}, {bearer: [b]}]` (any
    one will do, as `auth.required` checks); `{}` (no token) stays."""
    return [
        {scheme: [scope]} if scopes else {scheme: []}
        for scheme, scopes in requirement.items()
        for scope in scopes or [""]
    ] or [requirement]
