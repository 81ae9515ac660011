"""Per-feed state in the store: conditional-GET validators, back-off, and health for `status`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import feeds


@dataclass(frozen=True)
class FeedState:
    """What the last collects left for the next fetch of one feed."""

    etag: str | None = None
    last_modified: str | None = None
    retry_after: datetime | None = None
    gone_at: datetime | None = None


@dataclass(frozen=True)
class FeedHealth:
    url: str
    name: str
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    items_found: int
    retry_after: datetime | None
    gone_at: datetime | None


def load_states(connection: sa.Connection, urls: Iterable[str]) -> dict[str, FeedState]:
    rows = connection.execute(sa.select(feeds).where(feeds.c.url.in_(list(urls)))).all()
    return {
        row.url: FeedState(row.etag, row.last_modified, row.retry_after, row.gone_at)
        for row in rows
    }


def _write(
    connection: sa.Connection,
    url: str,
    name: str,
    values: dict[str, object],
    first: dict[str, object] | None = None,
) -> None:
    """Update the feed's row, or make it (with `first` in place of `values`) if it has none:
    one statement for a feed collected before, instead of a look-up and two writes."""
    updated = connection.execute(
        sa.update(feeds).where(feeds.c.url == url).values(name=name, **values)
    )
    if updated.rowcount == 0:
        connection.execute(sa.insert(feeds).values(url=url, name=name, **(first or values)))


def record_success(
    connection: sa.Connection,
    url: str,
    name: str,
    at: datetime,
    *,
    etag: str | None,
    last_modified: str | None,
    items_found: int | None,
) -> None:
    """A fetch that worked (200 with entries read, or 304); `items_found` None keeps the last."""
    values: dict[str, object] = {
        "etag": etag,
        "last_modified": last_modified,
        "last_checked_at": at,
        "last_success_at": at,
        "consecutive_failures": 0,
        "retry_after": None,
        "gone_at": None,
    }
    if items_found is not None:
        values["items_found"] = items_found
    _write(connection, url, name, values)


def record_failure(
    connection: sa.Connection,
    url: str,
    name: str,
    at: datetime,
    reason: str,
    *,
    retry_after: datetime | None = None,
    gone: bool = False,
) -> None:
    values: dict[str, object] = {
        "last_checked_at": at,
        "last_error": reason,
        "last_error_at": at,
        "consecutive_failures": feeds.c.consecutive_failures + 1,
        "retry_after": retry_after,
    }
    if gone:
        values["gone_at"] = at
    _write(connection, url, name, values, first=values | {"consecutive_failures": 1})


def reenable_gone(connection: sa.Connection, urls: Iterable[str]) -> None:
    """Fetch these feeds again although a 410 disabled them; one that is still gone is
    disabled again by its next fetch."""
    connection.execute(
        sa.update(feeds)
        .where(feeds.c.url.in_(list(urls)), feeds.c.gone_at.is_not(None))
        .values(gone_at=None)
    )


def feed_health(connection: sa.Connection, urls: list[str]) -> list[FeedHealth]:
    """Health of the configured feeds, in config order; a feed never collected has no row yet."""
    rows = {row.url: row for row in connection.execute(sa.select(feeds)).all()}
    return [
        FeedHealth(
            url=url,
            name=row.name,
            last_checked_at=row.last_checked_at,
            last_success_at=row.last_success_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            consecutive_failures=row.consecutive_failures,
            items_found=row.items_found,
            retry_after=row.retry_after,
            gone_at=row.gone_at,
        )
        for url in urls
        if (row := rows.get(url)) is not None
    ]
