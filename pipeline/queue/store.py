"""The item queue in the database: upserts from collectors and the states items move through.

    draft ──ready──> queued ──approve──> approved ──issue──> sent
                      │  ^                  │
                 hold v  │ release          v drop
                     held ────drop────> dropped
    (any open state) ──expires, event started, too old──> expired

Sent items are history: a later edit or deletion of their source never changes them, but
for a calendar's event moved or cancelled since (its `correction`, which the next issue
carries).
A dropped folder item whose file is edited returns (queued, or draft per its file): the
edit says the editor wants it after all. Duplicates and dropped feed items stay dropped.
A newly collected item that tells a story already queued is stored as dropped, pointing at
the one kept (`duplicate_of`), so it is never collected twice; see `pipeline.queue.dedup`.
A submission (`submit:` key, from `/submit`) is stored as `submitted` and moves on only by
an editor's approval (`pipeline.queue.actions`); its key names its content, so the same
submission sent twice is one item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import items
from pipeline.queue.dedup import (
    Candidate,
    find_same_story,
    newcomer_wins,
    source_rank,
    story_keys,
)
from pipeline.queue.rules import OPEN_STATES, Lifetime, expiry_reason

FINAL_STATES = ("sent", "dropped", "expired")
SUBMISSION_PREFIX = "submit:"
_Value = TypeVar("_Value", str, int)


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
    # An event's day where it starts: its collector gives the start in the site's zone.
    by_url, by_title = story_keys(item.link, item.title, event.start.date() if event else None)
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
        "event_all_day": event.all_day if event else False,
        "publish_after": item.publish_after,
        "expires": item.expires,
        "content_hash": item.content_hash(),
        "url_key": by_url,
        "title_key": by_title,
    }


def _state_after_edit(state: str, ready: bool) -> str:
    """An edited item needs to be approved again; a draft stays out of issues."""
    if state == "dropped":
        return "queued" if ready else "draft"
    if not ready:
        return "draft" if state in ("queued", "approved", "draft") else state
    if state in ("draft", "approved"):
        return "queued"
    return state


def _state_of_new(item: CollectedItem) -> str:
    """A submission waits for an editor; a draft stays out of issues."""
    if item.key.startswith(SUBMISSION_PREFIX):
        return "submitted"
    return "queued" if item.ready else "draft"


def _lifetime(item: CollectedItem) -> Lifetime:
    return Lifetime(
        published_at=item.published_at,
        expires=item.expires,
        event_start=item.event.start if item.event else None,
        from_folder=item.from_folder,
    )


@dataclass(frozen=True)
class _Kept:
    """A kept story: stored already (with its id) or being inserted in this batch."""

    candidate: Candidate
    state: str
    key: str


class _Stories:
    """The kept items (not themselves duplicates) that a batch of new items may repeat."""

    def __init__(self, connection: sa.Connection, batch: list[dict[str, object]]) -> None:
        self.by_url: dict[str, _Kept] = {}
        self.by_title: dict[str, _Kept] = {}
        links = sorted({str(v["url_key"]) for v in batch if v["url_key"]})
        titles = sorted({str(v["title_key"]) for v in batch if v["title_key"]})
        columns = (items.c.id, items.c.key, items.c.state, items.c.url_key, items.c.title_key)
        for column, keys in ((items.c.url_key, links), (items.c.title_key, titles)):
            for chunk in _chunks(keys):
                query = sa.select(*columns).where(column.in_(chunk), items.c.duplicate_of.is_(None))
                for row in connection.execute(query.order_by(items.c.id)):
                    self.add(row.id, row.key, row.state, row.url_key, row.title_key)

    def add(self, id: int, key: str, state: str, link: str | None, title: str | None) -> None:
        """Remember a kept story; `id` is 0 for one inserted in this batch."""
        kept = _Kept(Candidate(id, key.startswith("folder:"), link, title), state, key)
        if link:
            self.by_url.setdefault(link, kept)
        if title:
            self.by_title.setdefault(title, kept)

    def same_story(self, item: CollectedItem, link: str | None, title: str | None) -> _Kept | None:
        """The kept item telling the same story; folder files never repeat each other
        (each is an editor's deliberate item)."""
        found = {
            kept.candidate: kept
            for kept in (self.by_url.get(link or ""), self.by_title.get(title or ""))
            if kept is not None
            and kept.key != item.key
            and not (item.from_folder and kept.candidate.from_folder)
        }
        story = find_same_story(link, title, found)
        return None if story is None else found[story]


def _chunks(keys: list[_Value], size: int = 500) -> list[list[_Value]]:
    return [keys[start : start + size] for start in range(0, len(keys), size)]


_UPDATE = sa.update(items).where(items.c.id == sa.bindparam("_id"))


def _ids_by_key(connection: sa.Connection, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        query = sa.select(items.c.key, items.c.id).where(items.c.key.in_(chunk))
        found.update({row.key: row.id for row in connection.execute(query)})
    return found


def _insert_new(
    connection: sa.Connection,
    batch: list[tuple[UpsertCounts, CollectedItem, dict[str, object]]],
    at: datetime,
    max_age: timedelta | None,
) -> None:
    """Insert new items in two bulk statements: kept stories first, then their duplicates.

    Each item is counted in the counts it comes with (those of its source)."""
    stories = _Stories(connection, [values for _, _, values in batch])
    kept_rows, duplicate_rows, newcomer_wins_over = [], [], []
    for counts, item, values in batch:
        link, title = values["url_key"], values["title_key"]
        same = stories.same_story(item, link, title)  # type: ignore[arg-type]
        row = values | {"key": item.key, "duplicate_of": None, "created_at": at, "updated_at": at}
        if expiry_reason(_lifetime(item), at, max_age) is not None:
            kept_rows.append(row | {"state": "expired"})
            counts.expired += 1
            continue
        wins = same is not None and newcomer_wins(
            source_rank(item.key), source_rank(same.key), same.state == "sent"
        )
        if same is not None and not item.from_folder and not wins:
            duplicate_rows.append((row | {"state": "dropped"}, same))
            counts.duplicates += 1
            continue
        state = _state_of_new(item)
        kept_rows.append(row | {"state": state})
        stories.add(0, item.key, state, link, title)  # type: ignore[arg-type]
        counts.new += 1
        if same is not None and wins:
            newcomer_wins_over.append((item.key, same))
    if kept_rows:
        connection.execute(sa.insert(items), kept_rows)
    ids = _ids_by_key(connection, [str(row["key"]) for row in kept_rows])

    def id_of(kept: _Kept) -> int:
        return kept.candidate.id or ids[kept.key]

    if duplicate_rows:
        rows = [row | {"duplicate_of": id_of(same)} for row, same in duplicate_rows]
        connection.execute(sa.insert(items), rows)
    for key, same in newcomer_wins_over:
        # The higher-ranked version wins (the folder's over a feed's): the other steps aside.
        connection.execute(
            _UPDATE,
            {"_id": id_of(same), "state": "dropped", "duplicate_of": ids[key], "updated_at": at},
        )


def upsert(
    connection: sa.Connection,
    collected: Iterable[CollectedItem],
    at: datetime,
    max_age: timedelta | None = None,
) -> UpsertCounts:
    """Store collected items: new ones queued (or dropped as duplicates), edited ones updated."""
    return upsert_groups(connection, [collected], at, max_age)[0]


def upsert_groups(
    connection: sa.Connection,
    groups: Sequence[Iterable[CollectedItem]],
    at: datetime,
    max_age: timedelta | None = None,
) -> list[UpsertCounts]:
    """`upsert` of several sources' items in a handful of statements, with the counts of
    each; the same as upserting each group in turn (an earlier group keeps a story).

    No two groups share a key: a key names its source (`feed:<url>#…`, `page:…`, `folder:…`).
    """
    counts = [UpsertCounts() for _ in groups]
    batch: list[tuple[UpsertCounts, CollectedItem, dict[str, object]]] = []
    seen: set[str] = set()
    for group_counts, collected in zip(counts, groups, strict=True):
        unique: dict[str, CollectedItem] = {}
        for item in collected:
            unique.setdefault(item.key, item)  # a feed repeating an id counts once
        for item in unique.values():
            assert item.key not in seen, f"{item.key} is in two groups"
            seen.add(item.key)
            batch.append((group_counts, item, _columns(item)))
    existing: dict[str, sa.Row[Any]] = {}
    for chunk in _chunks([item.key for _, item, _ in batch]):
        query = sa.select(
            items.c.id,
            items.c.key,
            items.c.state,
            items.c.content_hash,
            items.c.duplicate_of,
            items.c.event_start,
            items.c.event_end,
        )
        existing.update(
            {row.key: row for row in connection.execute(query.where(items.c.key.in_(chunk)))}
        )
    _insert_new(connection, [entry for entry in batch if entry[1].key not in existing], at, max_age)
    for group_counts, item, values in batch:
        known = existing.get(item.key)
        if known is None:
            continue
        if known.content_hash != values["content_hash"] and _moved_after_sending(known, item):
            connection.execute(
                _UPDATE,
                {
                    "_id": known.id,
                    "event_start": values["event_start"],
                    "event_end": values["event_end"],
                    "correction": "moved",
                    "correction_issue_id": None,
                    "updated_at": at,
                },
            )
            group_counts.updated += 1
        elif known.content_hash == values["content_hash"] or (
            known.state in FINAL_STATES and not _returns(known, item)
        ):
            group_counts.unchanged += 1
        else:
            if item.undated:
                del values["published_at"]  # keep when it was first seen
            state = _state_after_edit(known.state, item.ready)
            connection.execute(
                _UPDATE,
                values | {"_id": known.id, "state": state, "dropped_from": None, "updated_at": at},
            )
            group_counts.updated += 1
    return counts


def _moved_after_sending(known: sa.Row[Any], item: CollectedItem) -> bool:
    """Whether a calendar moved an event already sent: the readers need to hear the new
    time (the next issue tells them, `/events/<id>.ics` gives it); nothing else changes."""
    if known.state != "sent" or item.event is None or not item.key.startswith("calendar:"):
        return False
    return (known.event_start, known.event_end) != (item.event.start, item.event.end)


def _returns(known: sa.Row[Any], item: CollectedItem) -> bool:
    """Whether an edited item in a final state comes back: a dropped folder item does,
    unless dedup set it aside."""
    return known.state == "dropped" and item.from_folder and known.duplicate_of is None


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
    # Only those that may have expired are read (`expiry_reason` decides): a calendar's
    # thousands of future occurrences need no look at every collect.
    maybe = [items.c.expires <= at, items.c.event_start <= at]
    if max_age is not None:
        maybe.append(sa.and_(items.c.event_start.is_(None), items.c.published_at < at - max_age))
    rows = connection.execute(
        sa.select(
            items.c.id, items.c.key, items.c.published_at, items.c.expires, items.c.event_start
        ).where(items.c.state.in_(OPEN_STATES), sa.or_(*maybe))
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


@dataclass(frozen=True)
class CalendarRead:
    """What one read of a calendar found: its key prefix, the keys it still lists, and the
    keys of events it could not be read for (`<key>` and its occurrences `<key>@…`)."""

    prefix: str
    present: set[str]
    unread: tuple[str, ...] = ()

    def lost(self, key: str) -> bool:
        """Whether the calendar no longer lists this item of its own."""
        return key not in self.present and not any(
            key == unread or key.startswith(unread + "@") for unread in self.unread
        )


def drop_cancelled(connection: sa.Connection, reads: list[CalendarRead], at: datetime) -> list[int]:
    """Drop the calendars' open occurrences they no longer list (cancelled, moved out of
    the window, deleted) that have not begun; how many for each. One already sent is
    marked cancelled instead, for the next issue to say so. The items of an event that
    could not be read stay as they were.

    One query for all the calendars of a batch: a prefix match cannot use the key's index.
    """
    if not reads:
        return []
    rows = connection.execute(
        sa.select(items.c.id, items.c.key, items.c.state).where(
            sa.or_(*(items.c.key.startswith(read.prefix, autoescape=True) for read in reads)),
            items.c.state.in_((*OPEN_STATES, "sent")),
            sa.or_(items.c.correction.is_(None), items.c.correction != "cancelled"),
            items.c.event_start > at,
        )
    ).all()
    counts = [0] * len(reads)
    dropped: list[int] = []
    cancelled: list[int] = []
    for row in rows:
        for index, read in enumerate(reads):
            if row.key.startswith(read.prefix) and read.lost(row.key):
                counts[index] += 1
                (cancelled if row.state == "sent" else dropped).append(row.id)
                break
    for chunk in _chunks(dropped):
        connection.execute(
            sa.update(items).where(items.c.id.in_(chunk)).values(state="dropped", updated_at=at)
        )
    for chunk in _chunks(cancelled):
        connection.execute(
            sa.update(items)
            .where(items.c.id.in_(chunk))
            .values(correction="cancelled", correction_issue_id=None, updated_at=at)
        )
    return counts
