"""The notice a desk page shows after an action, carried across the redirect.

The redirect names a fixed message key and the item's number in its query (`?done=held
&item=12`); the page shows the key's own text and the item's stored title, so nothing a
request says is ever echoed. An unknown key or item shows no notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import sqlalchemy as sa
from starlette.requests import Request

from pipeline.db import items
from pipeline.queue.actions import MAX_ITEM_ID
from pipeline.render.i18n import translations

Done = Literal["added", "saved", "held", "released", "approved", "dropped", "restored"]
DONE: tuple[Done, ...] = get_args(Done)
ACTION_DONE: dict[str, Done] = {
    "hold": "held",
    "release": "released",
    "approve": "approved",
    "drop": "dropped",
    "restore": "restored",
}


@dataclass(frozen=True)
class Notice:
    text: str
    item_id: int
    title: str
    undo: bool  # a dropped item: the notice offers to restore it


def notice_query(done: Done, item_id: int) -> str:
    return f"done={done}&item={item_id}"


def _text(done: Done, locale: str) -> str:
    _ = translations(locale).gettext
    return {
        "added": _("Added"),
        "saved": _("Saved"),
        "held": _("Held back"),
        "released": _("Released"),
        "approved": _("Approved"),
        "dropped": _("Dropped"),
        "restored": _("Restored"),
    }[done]


def notice_of(request: Request, connection: sa.Connection, locale: str) -> Notice | None:
    """The notice the query names, or None."""
    done, number = request.query_params.get("done", ""), request.query_params.get("item", "")
    if done not in DONE or not (number.isascii() and number.isdigit()):
        return None
    item_id = int(number)
    if item_id > MAX_ITEM_ID:
        return None
    row = connection.execute(
        sa.select(items.c.title, items.c.state, items.c.dropped_from).where(items.c.id == item_id)
    ).one_or_none()
    if row is None:
        return None
    key: Done = next(value for value in DONE if value == done)
    undo = key == "dropped" and row.state == "dropped" and row.dropped_from is not None
    return Notice(_text(key, locale), item_id, row.title, undo)
