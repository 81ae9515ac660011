"""The queue page: every open item by state and kind, with its source, date and actions."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db import now
from pipeline.queue.actions import MOVES, QueueActionRefused, apply_action
from pipeline.queue.listing import list_items
from pipeline.web.context import context_of
from pipeline.web.desk.pages import DESK, action, back_to, page, render

KIND_ORDER = ("intro", "report", "partner", "event", "news")


def actions_for(state: str) -> list[str]:
    """The actions the transition table allows from this state (a no-op is not offered)."""
    return [name for name, (allowed, target) in MOVES.items() if state in allowed]


def queue_groups(rows: list[dict[str, Any]], timezone: str) -> list[dict[str, Any]]:
    """Items grouped by state (in listing order), each group sorted by kind, then date;
    dates are the site's local days."""
    zone = ZoneInfo(timezone)
    groups = []
    for state, members in groupby(rows, key=lambda row: row["state"]):
        entries = sorted(
            members,
            key=lambda row: (
                KIND_ORDER.index(row["kind"]) if row["kind"] in KIND_ORDER else 99,
                row["published_at"],
            ),
        )
        for entry in entries:
            entry["from_folder"] = entry["key"].startswith("folder:")
            entry["file"] = entry["key"].removeprefix("folder:") if entry["from_folder"] else ""
            entry["actions"] = actions_for(state)
            entry["day"] = datetime.fromisoformat(entry["published_at"]).astimezone(zone).date()
        groups.append({"state": state, "items": entries})
    return groups


def _listing(request: Request) -> list[dict[str, Any]]:
    context = context_of(request)
    with context.engine.connect() as connection:
        rows = list_items(connection, every_state=False)
    return queue_groups(rows, context.config.site.timezone)


def queue_page(request: Request, editor: str, error: str = "", status: int = 200) -> Response:
    values: dict[str, object] = {"groups": _listing(request), "error": error}
    return render(request, "queue.html.j2", values, editor=editor, status_code=status)


@page
async def show_queue(request: Request, editor: str) -> Response:
    return await run_in_threadpool(queue_page, request, editor)


@action
async def act_on_item(request: Request, editor: str, form: FormData) -> Response:
    name = request.path_params["action"]
    if name not in MOVES:
        return queue_page(request, editor, f"unknown action {name!r}", 404)
    engine = context_of(request).engine
    try:
        await run_in_threadpool(
            apply_action, engine, [str(request.path_params["item"])], name, now()
        )
    except QueueActionRefused as exc:
        return await run_in_threadpool(queue_page, request, editor, str(exc), 409)
    return back_to(request, DESK)


routes = [
    Route(DESK, show_queue, methods=["GET"]),
    Route(f"{DESK}/items/{{item:int}}/state/{{action}}", act_on_item, methods=["POST"]),
]
