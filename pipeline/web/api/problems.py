"""RFC 9457 problem details: every error the API gives, 400 to 503, in one shape.

`{"type", "title", "status", "detail", "errors": [{"field", "location", "message"}]}` as
`application/problem+json`. FastAPI's and Starlette's own error bodies never reach a
client: their exceptions are turned into problems here.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pipeline.web.api.json import dumps
from pipeline.web.context import BUSY_RETRY_AFTER_S

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    field: str | None = Field(
        description="The field, dotted for nested ones; null for the whole body."
    )
    location: str = Field(description="body, query, path or header.")
    message: str


class Problem(BaseModel):
    type: str = Field("about:blank", description="about:blank: the status says it all.")
    title: str = Field(description="The status's phrase.")
    status: int
    detail: str = Field(description="What was wrong, for the person calling.")
    errors: list[FieldProblem] = Field([], description="The fields that were wrong, if any.")


class ApiProblem(Exception):
    """Raised by an endpoint to answer with a problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def field_problem(field: str, message: str, location: str = "body") -> ApiProblem:
    """A 422 naming one field."""
    return ApiProblem(
        422, f"{field}: {message}", [FieldProblem(field=field, location=location, message=message)]
    )


def problem_response(
    status: int,
    detail: str,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, errors=errors or []
    )
    return Response(dumps(body.model_dump()), status, headers=headers, media_type=MEDIA_TYPE)


async def api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc.status, exc.detail, exc.errors, exc.headers)


DETAILS = {
    404: "There is nothing at this address of the API (see /api/v1/docs).",
    405: "This address does not take that method (see /api/v1/docs).",
}


async def http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = DETAILS.get(exc.status_code) or (exc.detail if exc.detail != phrase else phrase)
    return problem_response(exc.status_code, str(detail), headers=dict(exc.headers or {}))


def _field_problem(error: dict[str, Any]) -> FieldProblem:
    location, *path = [str(part) for part in error.get("loc", ())] or ["body"]
    return FieldProblem(
        field=".".join(path) or None, location=location, message=str(error.get("msg", ""))
    )


async def validation_problem(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 (body, query, path or header not as documented), field by field."""
    assert isinstance(exc, RequestValidationError)
    errors = [_field_problem(error) for error in exc.errors()]
    named = sorted({e.field or e.location for e in errors})
    return problem_response(422, f"Not as documented: {', '.join(named)}.", errors)


async def database_busy(request: Request, exc: Exception) -> Response:
    """A locked SQLite or an unreachable PostgreSQL: the server's passing state, a 503."""
    log.warning("the database was busy or unreachable: %s", type(exc).__name__)
    return problem_response(
        503,
        "The database is busy; nothing was changed. Try again in a moment.",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("the API failed on %s %s", request.method, request.url.path)
    return problem_response(500, "The server failed; the operators have it in their log.")


EXCEPTION_HANDLERS = {
    ApiProblem: api_problem,
    HTTPException: http_problem,
    RequestValidationError: validation_problem,
    sa.exc.OperationalError: database_busy,
    Exception: server_error,
}
