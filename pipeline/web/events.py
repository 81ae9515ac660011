"""`GET /events/{item_id}.ics`: the "add to calendar" link of an event in an issue.

A plain link opens an event that has gone out in an issue (see `published`); the links of
a preview or a test mail carry a signature (`?preview=`) that opens that one event before.
A missing, forged or foreign signature for an unpublished event is the same 404 as an id
that does not exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pipeline.db import MAX_ROW_ID, items, now
from pipeline.issue.build import item_from_row
from pipeline.render.calendar import event_calendar
from pipeline.tokens import InvalidToken, SecretKeys, read_event_preview_token
from pipeline.web.context import context_of
from pipeline.web.published import published_item

# What a preview may show: items editors have let out. Drafts, held and dropped ones never.
PREVIEW_STATES = ("queued", "approved", "sent", "expired")


def _signed_for(keys: SecretKeys, token: str | None, item_id: int) -> bool:
    if token is None:
        return False
    try:
        return read_event_preview_token(keys, token) == item_id
    except InvalidToken:
        return False


async def event_ics(request: Request) -> Response:
    context = context_of(request)
    config, engine = context.config, context.engine
    item_id = request.path_params["item_id"]
    if item_id > MAX_ROW_ID:  # names no row; the database would refuse the number
        return PlainTextResponse("No such event.", status_code=404)
    signed = _signed_for(context.secret_key, request.query_params.get("preview"), item_id)
    visible = items.c.state.in_(PREVIEW_STATES) if signed else published_item()
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(items).where(
                items.c.id == item_id,
                items.c.kind == "event",
                items.c.event_start.is_not(None),
                visible,
            )
        ).first()
    if row is None:
        return PlainTextResponse("No such event.", status_code=404)
    body = event_calendar(item_from_row(row), config.site, stamp=now())
    headers = {"Content-Disposition": f'attachment; filename="event-{item_id}.ics"'}
    if signed:
        headers |= {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


routes: list[Route] = [Route("/events/{item_id:int}.ics", event_ics, methods=["GET"])]
