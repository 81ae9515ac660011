"""The editors' actions on queued items: hold, release, drop, approve, and restore.

A submission (`submit:` item, state `submitted`) moves on only by an editor's approval,
whatever `issue.require_approval` says: released from held it returns to `submitted`.

Each action is a move in the table below; anything else is refused with the reason.
A drop remembers the state it left (`dropped_from`); restore returns an item an editor
dropped to that state. Duplicates dedup set aside and items whose file is gone were not
dropped by an editor and cannot be restored. Every action is one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from pipeline.db import MAX_ROW_ID, items
from pipeline.errors import NewsletterError

Action = Literal["hold", "release", "drop", "approve", "restore"]
StateAction = Literal["hold", "release", "drop", "approve"]

MOVES: dict[StateAction, tuple[tuple[str, ...], str]] = {
    "hold": (("submitted", "queued", "approved"), "held"),
    "release": (("held",), "queued"),
    "drop": (("submitted", "draft", "queued", "held", "approved"), "dropped"),
    "approve": (("submitted", "queued", "held"), "approved"),
}
SUBMISSION_PREFIX = "submit:"


class QueueActionRefused(NewsletterError):
    pass


def next_state(state: str, action: StateAction, submission: bool = False) -> str:
    """The state an item moves to, or QueueActionRefused naming why it cannot; a held
    submission is released to `submitted`, to wait for an editor's approval again."""
    allowed, target = MOVES[action]
    if submission and action == "release":
        target = "submitted"
    if state == target:
        return state
    if state not in allowed:
        if state == "draft":
            reason = "it is a draft: set `status: ready` in its file first"
        elif state == "sent":
            reason = "it has been sent and is history"
        else:
            reason = f"it is {state}; {action} applies to {' or '.join(allowed)} items"
        raise QueueActionRefused(f"cannot {action} this item: {reason}")
    return target


MAX_ITEM_ID = MAX_ROW_ID


def find_item_id(connection: sa.Connection, ref: str) -> int:
    """An item by its number in `queue list` or by its key."""
    number = ref.isascii() and ref.isdigit()
    column = items.c.id if number else items.c.key
    value: int | str = int(ref) if number else ref
    # A number longer than a database integer holds names no item (and no overflow).
    found = (
        None
        if number and int(ref) > MAX_ITEM_ID
        else connection.execute(sa.select(items.c.id).where(column == value)).scalar()
    )
    if found is None:
        raise QueueActionRefused(f"no item {ref!r} in the queue (see `newsletter queue list`)")
    return int(found)


def restored_state(state: str, dropped_from: str | None, duplicate_of: int | None) -> str:
    """The state a restored item returns to, or QueueActionRefused naming why it cannot."""
    if state != "dropped":
        raise QueueActionRefused(f"cannot restore this item: it is {state}, not dropped")
    if duplicate_of is not None:
        raise QueueActionRefused(
            f"cannot restore this item: it repeats item {duplicate_of}, which is kept instead"
        )
    if dropped_from is None:
        raise QueueActionRefused(
            "cannot restore this item: no editor dropped it (its file left the content folder)"
        )
    return dropped_from


def _move(connection: sa.Connection, item_id: int, action: Action, at: datetime) -> str:
    row = connection.execute(
        sa.select(
            items.c.key, items.c.state, items.c.title, items.c.dropped_from, items.c.duplicate_of
        ).where(items.c.id == item_id)
    ).one()
    try:
        if action == "restore":
            target = restored_state(row.state, row.dropped_from, row.duplicate_of)
        else:
            target = next_state(row.state, action, row.key.startswith(SUBMISSION_PREFIX))
    except QueueActionRefused as exc:
        raise QueueActionRefused(f"item {item_id} ({row.title}): {exc}") from exc
    values: dict[str, object] = {"state": target, "updated_at": at}
    if action == "restore":
        values["dropped_from"] = None
    elif action == "drop" and row.state != target:
        values["dropped_from"] = row.state
    if target != row.state:
        connection.execute(sa.update(items).where(items.c.id == item_id).values(**values))
    return f"{item_id} {row.state} -> {target}: {row.title}"


def apply_action(engine: sa.Engine, refs: list[str], action: Action, at: datetime) -> list[str]:
    """Move every named item, or none of them; returns one line per item."""
    with engine.begin() as connection:
        return [_move(connection, find_item_id(connection, ref), action, at) for ref in refs]
