"""The queue page: every open item by state and kind, with its source, date and actions
(a calendar's series as one row: its next date and how many it has), then the items
editors dropped (to restore). A drop is confirmed on a page of its own;
every action lands back on the queue with a notice (`pipeline.web.desk.notices`)."""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db import now
from pipeline.queue.actions import MAX_ITEM_ID, MOVES, QueueActionRefused, apply_action
from pipeline.queue.listing import list_dropped_by_editors, list_items, show_item
from pipeline.queue.series import fold_series
from pipeline.render.dates import listed_when, numeric_date
from pipeline.render.i18n import translations
from pipeline.web.context import context_of
from pipeline.web.desk.notices import ACTION_DONE, notice_of, notice_query
from pipeline.web.desk.pages import DESK, action, back_to, page, render
from pipeline.web.pages import page_locale

KIND_ORDER = ("intro", "report", "partner", "event", "news")
DROPPED_SHOWN = 50  # the queue lists the latest drops; `queue list --all` has every one


def actions_for(state: str, restorable: bool = False) -> list[str]:
    """The actions the transition table allows from this state (a no-op is not offered);
    `restore` for an item an editor dropped."""
    moves: list[str] = [name for name, (allowed, _target) in MOVES.items() if state in allowed]
    return [*moves, "restore"] if restorable else moves


def restorable(item: dict[str, Any]) -> bool:
    return bool(item["state"] == "dropped" and item["dropped_from"] and not item["duplicate_of"])


def queue_groups(rows: list[dict[str, Any]], timezone: str, locale: str) -> list[dict[str, Any]]:
    """Items grouped by state (in listing order), each group sorted by kind, then date;
    dates are the site's local days, as the desk's language writes them."""
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
            published = datetime.fromisoformat(entry["published_at"])
            start = entry["event_start"] and datetime.fromisoformat(entry["event_start"])
            entry["when"] = listed_when(
                published, start, locale, timezone, all_day=entry["event_all_day"]
            )
            entry["when_iso"] = (
                start.astimezone(zone).isoformat(timespec="minutes")
                if start
                else published.astimezone(zone).date().isoformat()
            )
        groups.append({"state": state, "items": entries})
    return groups


def _local_day(moment: str, timezone: str) -> date:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone)).date()


def queue_page(request: Request, editor: str, error: str = "", status: int = 200) -> Response:
    context = context_of(request)
    timezone, locale = context.config.site.timezone, page_locale(request)
    with context.engine.connect() as connection:
        listed = fold_series(list_items(connection, every_state=False))
        groups = queue_groups(listed, timezone, locale)
        dropped = list_dropped_by_editors(connection, DROPPED_SHOWN)
        notice = None if error else notice_of(request, connection, locale)
    for entry in dropped:
        entry["day"] = _local_day(entry["dropped_at"], timezone)
        entry["when"] = numeric_date(entry["day"], locale)
    values: dict[str, object] = {
        "groups": groups,
        "dropped": dropped,
        "dropped_more": len(dropped) == DROPPED_SHOWN,
        "error": error,
        "notice": notice,
    }
    return render(request, "queue.html.j2", values, editor=editor, status_code=status)


@page
async def show_queue(request: Request, editor: str) -> Response:
    return await run_in_threadpool(queue_page, request, editor)


def item_of(request: Request) -> dict[str, Any] | None:
    """The item the path names, or None."""
    item_id = int(request.path_params["item"])
    if item_id > MAX_ITEM_ID:
        return None
    with context_of(request).engine.connect() as connection:
        try:
            return show_item(connection, item_id)
        except sa.exc.NoResultFound:
            return None


@page
async def confirm_drop(request: Request, editor: str) -> Response:
    """Ask before dropping: the page says what goes and how to bring it back."""
    item = await run_in_threadpool(item_of, request)
    if item is None or "drop" not in actions_for(item["state"]):
        gettext = translations(page_locale(request)).gettext
        text = gettext("This item cannot be dropped (any more).") if item else ""
        values: dict[str, object] = {"title": gettext("No such item"), "text": text}
        return render(request, "message.html.j2", values, editor=editor, status_code=404)
    return render(request, "confirm_drop.html.j2", {"item": item}, editor=editor)


@action
async def act_on_item(request: Request, editor: str, form: FormData) -> Response:
    name = request.path_params["action"]
    if name not in ACTION_DONE:
        return queue_page(request, editor, f"unknown action {name!r}", 404)
    item = int(request.path_params["item"])
    if name == "drop" and form.get("confirm") != "yes":
        return back_to(request, f"{DESK}/items/{item}/drop")
    engine = context_of(request).engine
    try:
        await run_in_threadpool(apply_action, engine, [str(item)], name, now())
    except QueueActionRefused as exc:
        return await run_in_threadpool(queue_page, request, editor, str(exc), 409)
    return back_to(request, DESK, notice_query(ACTION_DONE[name], item))


routes = [
    Route(DESK, show_queue, methods=["GET"]),
    Route(f"{DESK}/items/{{item:int}}/drop", confirm_drop, methods=["GET"]),
    Route(f"{DESK}/items/{{item:int}}/state/{{action}}", act_on_item, methods=["POST"]),
]
