"""`GET /healthz`: 200 when the database answers and its schema is current, else 503."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline import db
from pipeline.errors import SchemaOutOfDate
from pipeline.web.context import context_of


def _check(engine: sa.Engine) -> str | None:
    """The problem, in one line, or None when healthy."""
    try:
        db.require_current_schema(engine)
    except SchemaOutOfDate as exc:
        return str(exc)
    except sa.exc.SQLAlchemyError as exc:
        return f"the database does not answer: {type(exc).__name__}"
    return None


async def healthz(request: Request) -> Response:
    problem = await run_in_threadpool(_check, context_of(request).engine)
    if problem is not None:
        return JSONResponse({"status": "unhealthy", "problem": problem}, status_code=503)
    return JSONResponse({"status": "ok"})


routes = [Route("/healthz", healthz, methods=["GET"])]
