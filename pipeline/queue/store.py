"""The item queue in the database: upserts from collectors and the states items move through.

    draft ──ready──> queued ──approve──> approved ──issue──> sent
                      │  ^                  │
                 hold v  │ release          v drop
                     held ────drop────> dropped
    (any open state) ──expires, event started, too old──> expired

Sent items are history: a later edit or deletion of their source never changes them.
A newly collected item that tells a story already queued is stored as dropped, pointing at
the one kept (`duplicate_of`), so it is never collected twice; see `pipeline.queue.dedup`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import items
from pipeline.queue.dedup import Candidate, find_same_story, newcomer_wins, title_key, url_key
from pipeline.queue.rules import OPEN_STATES, Lifetime, expiry_reason

FINAL_STATES = ("sent", "dropped", "expired")


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    duplicates: int = 0
    expired: int = 0


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
        "categories": list(item.categories),
        "published_at": item.published_at,
        "event_start": event.start if event else None,
        "event_end": event.end if event else None,
        "event_location": event.location if event else None,
        "event_online_url": event.online_url if event else None,
        "publish_after": item.publish_after,
        "expires": item.expires,
        "content_hash": item.content_hash(),
        "url_key": url_key(item.link),
        "title_key": title_key(item.title),
    }


def _state_after_edit(state: str, ready: bool) -> str:
    """An edited item needs to be approved again; a draft stays out of issues."""
    if not ready:
        return "draft" if state in ("queued", "approved", "draft") else state
    if state in ("draft", "approved"):
        return "queued"
    return state


def _lifetime(item: CollectedItem) -> Lifetime:
    return Lifetime(
        published_at=item.published_at,
        expires=item.expires,
        event_start=item.event.start if item.event else None,
        from_folder=item.from_folder,
    )


def _same_story(
    connection: sa.Connection, item: CollectedItem, values: dict[str, object]
) -> tuple[Candidate, str] | None:
    """The kept item (not itself a duplicate) that tells the same story, with its state."""
    link, title = values["url_key"], values["title_key"]
    matches = [items.c.url_key == link] if link else []
    if title:
        matches.append(items.c.title_key == title)
    if not matches:
        return None
    query = sa.select(
        items.c.id, items.c.key, items.c.state, items.c.url_key, items.c.title_key
    ).where(sa.or_(*matches), items.c.duplicate_of.is_(None), items.c.key != item.key)
    if item.from_folder:
        query = query.where(~items.c.key.startswith("folder:"))
    rows = connection.execute(query.order_by(items.c.id)).all()
    states = {row.id: row.state for row in rows}
    candidates = [
        Candidate(row.id, row.key.startswith("folder:"), row.url_key, row.title_key) for row in rows
    ]
    found = find_same_story(link, title, candidates)  # type: ignore[arg-type]
    return None if found is None else (found, states[found.id])


def _insert(
    connection: sa.Connection,
    item: CollectedItem,
    values: dict[str, object],
    at: datetime,
    max_age: timedelta | None,
    counts: UpsertCounts,
) -> None:
    state = "queued" if item.ready else "draft"
    duplicate_of = None
    same = _same_story(connection, item, values)
    if expiry_reason(_lifetime(item), at, max_age) is not None:
        state = "expired"
        counts.expired += 1
    elif same is not None and not item.from_folder:
        state, duplicate_of = "dropped", same[0].id
        counts.duplicates += 1
    else:
        counts.new += 1
    new_id = connection.execute(
        sa.insert(items)
        .values(
            key=item.key,
            state=state,
            duplicate_of=duplicate_of,
            created_at=at,
            updated_at=at,
            **values,
        )
        .returning(items.c.id)
    ).scalar_one()
    if same is not None and newcomer_wins(item.from_folder, same[0], same[1] == "sent"):
        # The folder's version wins: the feed's copy steps aside.
        connection.execute(
            sa.update(items)
            .where(items.c.id == same[0].id)
            .values(state="dropped", duplicate_of=new_id, updated_at=at)
        )


def upsert(
    connection: sa.Connection,
    collected: Iterable[CollectedItem],
    at: datetime,
    max_age: timedelta | None = None,
) -> UpsertCounts:
    """Store collected items: new ones queued (or dropped as duplicates), edited ones updated."""
    counts = UpsertCounts()
    for item in collected:
        existing = connection.execute(
            sa.select(items.c.id, items.c.state, items.c.content_hash).where(
                items.c.key == item.key
            )
        ).first()
        values = _columns(item)
        if existing is None:
            _insert(connection, item, values, at, max_age, counts)
        elif existing.state in FINAL_STATES or existing.content_hash == values["content_hash"]:
            counts.unchanged += 1
        else:
            if item.undated:
                del values["published_at"]  # keep when it was first seen
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


def expire_items(connection: sa.Connection, at: datetime, max_age: timedelta | None) -> int:
    """Move every open item that is no longer news to `expired`; returns how many."""
    rows = connection.execute(
        sa.select(
            items.c.id, items.c.key, items.c.published_at, items.c.expires, items.c.event_start
        ).where(items.c.state.in_(OPEN_STATES))
    ).all()
    stale = [
        row.id
        for row in rows
        if expiry_reason(
            Lifetime(row.published_at, row.expires, row.event_start, row.key.startswith("folder:")),
            at,
            max_age,
        )
        is not None
    ]
    if stale:
        connection.execute(
            sa.update(items).where(items.c.id.in_(stale)).values(state="expired", updated_at=at)
        )
    return len(stale)
