"""`GET /events/{item_id}.ics`: the "add to calendar" link of an event in an issue.

The app that mounts these routes puts the loaded `Config` and the `sqlalchemy.Engine`
on `app.state.config` and `app.state.engine`.
"""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pipeline.config import Config
from pipeline.db import items, now
from pipeline.issue.build import item_from_row
from pipeline.render.calendar import event_calendar

# Items editors have not let out (drafts, held or dropped ones) have no calendar entry.
PUBLIC_STATES = ("queued", "approved", "sent", "expired")


async def event_ics(request: Request) -> Response:
    config: Config = request.app.state.config
    engine: sa.Engine = request.app.state.engine
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
