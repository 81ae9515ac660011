"""How long clicks and opens name their reader, and what is left of them afterwards.

Only a reader who agreed to personalised statistics is ever named (`subscriber_id`). Their
rows lose the name `analytics.retention_days` after the click, or at once when they
withdraw the consent, and count on anonymously: an issue's clicks stay the same; who
clicked is gone, and with it the issue's readers who clicked and its click-through rate
(the report says so for an issue older than the retention). The daily run also clears a
name whose reader has no consent now (a click from a mail sent before the consent was
withdrawn), so nothing outlives a withdrawal by more than a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.db import clicks, opens
from subscribers.schema import subscribers


@dataclass(frozen=True)
class Anonymised:
    """How many rows lost their reader."""

    clicks: int
    opens: int

    def __str__(self) -> str:
        return f"{self.clicks} click(s) and {self.opens} open(s) anonymised"


# Each table that may name a reader, with the moment its row was made.
_PER_READER = ((clicks, clicks.c.clicked_at), (opens, opens.c.opened_at))


def anonymise_reader(connection: sa.Connection, subscriber_id: int) -> Anonymised:
    """Every click and open of this reader stops naming them (a withdrawn consent)."""
    counts = [
        connection.execute(
            sa.update(table)
            .where(table.c.subscriber_id == subscriber_id)
            .values(subscriber_id=None)
        ).rowcount
        for table, _at in _PER_READER
    ]
    return Anonymised(*counts)


def apply_retention(connection: sa.Connection, retention_days: int, at: datetime) -> Anonymised:
    """Clicks and opens older than `retention_days` before `at`, and those whose reader
    has no consent now, stop naming their reader."""
    before = at - timedelta(days=retention_days)
    agreed = sa.select(subscribers.c.id).where(subscribers.c.stats_consent_at.is_not(None))
    counts = [
        connection.execute(
            sa.update(table)
            .where(
                table.c.subscriber_id.is_not(None),
                sa.or_(made_at < before, table.c.subscriber_id.not_in(agreed)),
            )
            .values(subscriber_id=None)
        ).rowcount
        for table, made_at in _PER_READER
    ]
    return Anonymised(*counts)
