"""`GET /api/v1/health`: database, last collect, last send; the version only with a token."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import version
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from pipeline import db
from pipeline.errors import SchemaOutOfDate
from pipeline.web.api.auth import OPTIONAL_TOKEN, Caller, optional_caller
from pipeline.web.api.json import Json
from pipeline.web.context import context_of

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "unhealthy"]
    database: str = Field(description="`ok`, or what is wrong with it.")
    last_collect: datetime | None = Field(description="When a source was last fetched.")
    last_send: datetime | None = Field(description="When the last issue finished sending.")
    version: str | None = Field(None, description="The pipeline's version; only with a token.")


def _read(engine: sa.Engine) -> tuple[str, datetime | None, datetime | None]:
    try:
        db.require_current_schema(engine)
        with engine.connect() as connection:
            collected = connection.execute(sa.select(sa.func.max(db.feeds.c.last_checked_at)))
            sent = connection.execute(
                sa.select(sa.func.max(db.issues.c.finished_at)).where(db.issues.c.state == "sent")
            )
            return "ok", collected.scalar(), sent.scalar()
    except SchemaOutOfDate as exc:
        return str(exc), None, None
    except sa.exc.SQLAlchemyError as exc:
        return f"the database does not answer: {type(exc).__name__}", None, None


@router.get(
    "/health",
    response_model=Health,
    summary="Is the pipeline healthy?",
    responses={
        503: {"model": Health, "description": "The database is unreachable or out of date."}
    },
    openapi_extra={OPTIONAL_TOKEN: True},
)
def health(request: Request, caller: Annotated[Caller | None, Depends(optional_caller)]) -> Json:
    """Open to everyone; with any valid token the answer also names the version."""
    problem, collected, sent = _read(context_of(request).engine)
    body = Health(
        status="ok" if problem == "ok" else "unhealthy",
        database=problem,
        last_collect=collected,
        last_send=sent,
        version=version("newsletter-pipeline") if caller is not None else None,
    )
    return Json(body.model_dump(mode="json"), status_code=200 if problem == "ok" else 503)
