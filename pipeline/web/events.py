"""`GET /events/{item_id}.ics`: the "add to calendar" link of an event in an issue."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pipeline.db import items, now
from pipeline.issue.build import item_from_row
from pipeline.render.calendar import event_calendar
from pipeline.web.context import context_of

# Items editors have not let out (drafts, held or dropped ones) have no calendar entry.
PUBLIC_STATES = ("queued", "approved", "sent", "expired")


async def event_ics(request: Request) -> Response:
    context = context_of(request)
    config, engine = context.config, context.engine
    item_id = request.path_params["item_id"]
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(items).where(
                items.c.id == item_id,
                items.c.kind == "event",
                items.c.event_start.is_not(None),
                items.c.state.in_(PUBLIC_STATES),
            )
        ).first()
    if row is None:
        return PlainTextResponse("No such event.", status_code=404)
    body = event_calendar(item_from_row(row), config.site, stamp=now())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{item_id}.ics"'},
    )


routes: list[Route] = [Route("/events/{item_id:int}.ics", event_ics, methods=["GET"])]
