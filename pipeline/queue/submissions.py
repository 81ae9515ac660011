"""News sent in through `/submit`: stored as its own kind of source, waiting for an editor.

A submission's key is `submit:<partner id or "public">:<fingerprint of its content>`,
so the same news sent twice (a double click, a resent form) is one item; it goes through
the queue's dedup as every source does, ranked below the feeds and the folder
(`pipeline.queue.dedup.source_rank`). It is never written into the content folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.db import items
from pipeline.queue.store import SUBMISSION_PREFIX, upsert


@dataclass(frozen=True)
class Stored:
    item_id: int
    state: str
    new: bool
    """False when the same submission was stored before (or dedup set this one aside)."""


def submission_key(partner_id: int | None, fingerprint: str) -> str:
    return f"{SUBMISSION_PREFIX}{'public' if partner_id is None else partner_id}:{fingerprint}"


def store_submission(
    engine: sa.Engine, item: CollectedItem, partner_id: int | None, at: datetime
) -> Stored:
    """Store a submission in one transaction; the item names its partner (`partner_id`)."""
    assert item.key.startswith(SUBMISSION_PREFIX), item.key
    with engine.begin() as connection:
        counts = upsert(connection, [item], at)
        row = connection.execute(
            sa.select(items.c.id, items.c.state, items.c.partner_id).where(items.c.key == item.key)
        ).one()
        if counts.new or counts.duplicates:
            connection.execute(
                sa.update(items).where(items.c.id == row.id).values(partner_id=partner_id)
            )
    return Stored(int(row.id), str(row.state), new=bool(counts.new))
