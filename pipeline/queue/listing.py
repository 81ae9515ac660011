"""What editors see of the queue: items as plain dicts, for tables and `--json`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pipeline.db import items
from pipeline.queue.rules import OPEN_STATES

STATE_ORDER = ("submitted", "approved", "queued", "held", "draft", "sent", "dropped", "expired")


def _as_dict(row: sa.Row[Any], full: bool) -> dict[str, Any]:
    m = row._mapping
    entry: dict[str, Any] = {
        "id": m["id"],
        "state": m["state"],
        "kind": m["kind"],
        "title": m["title"],
        "source": m["source"],
        "key": m["key"],
        "link": m["link"],
        "published_at": m["published_at"].isoformat(),
        "duplicate_of": m["duplicate_of"],
        "dropped_from": m["dropped_from"],
        "partner_id": m["partner_id"],
        "event_start": _iso(m["event_start"]),
        "event_all_day": m["event_all_day"],
    }
    if full:
        entry |= {
            "summary": m["summary"],
            "body_html": m["body_html"],
            "image": m["image"],
            "image_alt": m["image_alt"],
            "topics": list(m["topics"] or ()),
            "categories": list(m["categories"] or ()),
            "event_end": _iso(m["event_end"]),
            "event_location": m["event_location"],
            "event_online_url": m["event_online_url"],
            "publish_after": _iso(m["publish_after"]),
            "expires": _iso(m["expires"]),
            "issue_id": m["issue_id"],
            "created_at": _iso(m["created_at"]),
            "updated_at": _iso(m["updated_at"]),
        }
    return entry


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def list_items(connection: sa.Connection, *, every_state: bool) -> list[dict[str, Any]]:
    """Open items (or every item), grouped by state, newest first within a state."""
    query = sa.select(items)
    if not every_state:
        query = query.where(items.c.state.in_(OPEN_STATES))
    order = sa.case({state: rank for rank, state in enumerate(STATE_ORDER)}, value=items.c.state)
    rows = connection.execute(query.order_by(order, items.c.published_at.desc(), items.c.id))
    return [_as_dict(row, full=False) for row in rows]


def list_dropped_by_editors(connection: sa.Connection, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` items an editor dropped (and could restore), the latest first."""
    query = sa.select(items).where(items.c.state == "dropped", items.c.dropped_from.is_not(None))
    order = (items.c.updated_at.desc(), items.c.id.desc())
    rows = connection.execute(query.order_by(*order).limit(limit))
    return [_as_dict(row, full=False) | {"dropped_at": _iso(row.updated_at)} for row in rows]


def show_item(connection: sa.Connection, item_id: int) -> dict[str, Any]:
    row = connection.execute(sa.select(items).where(items.c.id == item_id)).one()
    return _as_dict(row, full=True)


def count_by_state(connection: sa.Connection) -> dict[str, int]:
    rows = connection.execute(
        sa.select(items.c.state, sa.func.count()).group_by(items.c.state)
    ).all()
    found = {state: int(count) for state, count in rows}
    return {state: found.get(state, 0) for state in STATE_ORDER}
