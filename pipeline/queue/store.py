"""The item queue in the database: upserts from collectors and the states items move through.

    draft ──ready──> queued ──approve──> approved ──issue──> sent
                      │  ^                  │
                 hold v  │ release          v drop
                     held ────drop────> dropped

Sent items are history: a later edit or deletion of their source never changes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import items

FINAL_STATES = ("sent", "dropped", "expired")


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def _columns(item: CollectedItem) -> dict[str, object]:
    event = item.event
    return {
        "source": item.source,
        "kind": item.kind,
        "title": item.title,
        "summary": item.summary,
        "body_html": item.body_html,
        "link": item.link,
        "image": item.image,
        "image_alt": item.image_alt,
        "topics": list(item.topics),
        "published_at": item.published_at,
        "event_start": event.start if event else None,
        "event_end": event.end if event else None,
        "event_location": event.location if event else None,
        "event_online_url": event.online_url if event else None,
        "publish_after": item.publish_after,
        "expires": item.expires,
        "content_hash": item.content_hash(),
    }


def _state_after_edit(state: str, ready: bool) -> str:
    """An edited item needs to be approved again; a draft stays out of issues."""
    if not ready:
        return "draft" if state in ("queued", "approved", "draft") else state
    if state in ("draft", "approved"):
        return "queued"
    return state


def upsert(
    connection: sa.Connection, collected: Iterable[CollectedItem], at: datetime
) -> UpsertCounts:
    counts = UpsertCounts()
    for item in collected:
        existing = connection.execute(
            sa.select(items.c.id, items.c.state, items.c.content_hash).where(
                items.c.key == item.key
            )
        ).first()
        values = _columns(item)
        if existing is None:
            connection.execute(
                sa.insert(items).values(
                    key=item.key,
                    state="queued" if item.ready else "draft",
                    created_at=at,
                    updated_at=at,
                    **values,
                )
            )
            counts.new += 1
        elif existing.state in FINAL_STATES or existing.content_hash == values["content_hash"]:
            counts.unchanged += 1
        else:
            connection.execute(
                sa.update(items)
                .where(items.c.id == existing.id)
                .values(
                    state=_state_after_edit(existing.state, item.ready), updated_at=at, **values
                )
            )
            counts.updated += 1
    return counts


def drop_missing(
    connection: sa.Connection, key_prefix: str, present: set[str], at: datetime
) -> int:
    """Drop the open items whose source file is gone; sent items stay as they were."""
    rows = connection.execute(
        sa.select(items.c.id, items.c.key).where(
            items.c.key.startswith(key_prefix, autoescape=True),
            items.c.state.not_in(FINAL_STATES),
        )
    ).all()
    gone = [row.id for row in rows if row.key not in present]
    if gone:
        connection.execute(
            sa.update(items).where(items.c.id.in_(gone)).values(state="dropped", updated_at=at)
        )
    return len(gone)
