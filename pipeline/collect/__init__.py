"""Collect: read every source into the item queue.

Each source is read on its own; a broken file or feed is reported and the rest is stored.
The content folder is read first, so that its version of a story wins over a feed's or a
calendar's. Feed fetching (httpx, feedparser, a process pool) is imported only when feeds
or calendars are collected (calendars are fetched like feeds, with the same health), page
fetching (selectolax, trafilatura) only when pages are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pipeline.collect.calendar_source import ACCEPT, CalendarSource, key_prefix, parse
from pipeline.collect.folder import SOURCE_NAME, read_folder
from pipeline.collect.health import load_states, record_failure, record_success, reenable_gone
from pipeline.collect.writer import StoreWriter
from pipeline.config import Calendar, Config, Feed, Page
from pipeline.db import items, now
from pipeline.errors import FeedError, NewsletterError
from pipeline.queue.store import (
    CalendarRead,
    UpsertCounts,
    drop_cancelled,
    drop_missing,
    expire_items,
    upsert,
    upsert_groups,
)

if TYPE_CHECKING:
    from pipeline.collect.feeds import FeedOutcome, Source
    from pipeline.collect.pages import PageOutcome


@dataclass
class SourceReport:
    name: str
    counts: UpsertCounts
    errors: list[NewsletterError] = field(default_factory=list)
    note: str | None = None
    """Why nothing was read, when that is not a failure (not modified, waiting, disabled)."""
    warnings: list[str] = field(default_factory=list)
    result: str = "ok"
    """The outcome in a word or two, for a table: ok, not modified, waiting, disabled,
    gone, failed."""


@dataclass
class CollectReport:
    sources: list[SourceReport]
    expired: int = 0

    @property
    def failed(self) -> bool:
        return any(source.errors for source in self.sources)


def max_age(config: Config) -> timedelta | None:
    days = config.collect.max_age_days
    return None if days is None else timedelta(days=days)


def collect(config: Config, engine: sa.Engine, *, retry_gone: bool = False) -> CollectReport:
    """Every source into the queue; `retry_gone` fetches feeds a 410 disabled once more."""
    reports = [collect_folder(config, engine)]
    if config.sources.feeds:
        reports += collect_from_feeds(config, engine, retry_gone=retry_gone)
    if config.sources.calendars:
        reports += collect_from_calendars(config, engine, retry_gone=retry_gone)
    if config.sources.pages:
        reports += collect_from_pages(config, engine, retry_gone=retry_gone)
    at = now()
    with engine.begin() as connection:
        expired = expire_items(connection, at, max_age(config))
    return CollectReport(sources=reports, expired=expired)


def collect_folder(config: Config, engine: sa.Engine) -> SourceReport:
    result = read_folder(
        config.sources.content_dir,
        timezone=config.site.timezone,
        topic_keys=[topic.key for topic in config.topics],
        media_url=config.site.media_url,
    )
    at = now()
    with engine.begin() as connection:
        counts = upsert(connection, result.items, at)
        if config.sources.content_dir.is_dir():
            present = {item.key for item in result.items} | result.failed_keys
            counts.removed = drop_missing(connection, "folder:", present, at)
    return SourceReport(
        name=SOURCE_NAME,
        counts=counts,
        errors=list(result.errors),
        result="failed" if result.errors else "ok",
    )


def collect_from_feeds(
    config: Config, engine: sa.Engine, *, retry_gone: bool = False
) -> list[SourceReport]:
    """Fetch every feed, then store every feed's items and health."""
    from pipeline.collect.normalize import FeedSource

    topic_keys = tuple(topic.key for topic in config.topics)
    unique: dict[str, Feed] = {}
    for feed in config.sources.feeds:
        unique.setdefault(str(feed.url), feed)  # a feed listed twice is collected once
    sources = [
        FeedSource(url, feed.name, feed.kind, topic_keys, tuple(feed.topics))
        for url, feed in unique.items()
    ]
    return _fetch_and_store(config, engine, sources, retry_gone=retry_gone)


def collect_from_calendars(
    config: Config, engine: sa.Engine, *, retry_gone: bool = False
) -> list[SourceReport]:
    """Fetch every calendar, then store its occurrences (dropping the cancelled) and health."""
    unique: dict[str, Calendar] = {}
    for calendar in config.sources.calendars:
        unique.setdefault(str(calendar.url), calendar)
    sources = [
        CalendarSource(
            url,
            calendar.name,
            tuple(calendar.topics),
            config.site.timezone,
            config.collect.calendar_days,
        )
        for url, calendar in unique.items()
    ]
    return _fetch_and_store(
        config, engine, sources, retry_gone=retry_gone, parse=parse, accept=ACCEPT
    )


def _fetch_and_store(
    config: Config,
    engine: sa.Engine,
    sources: Sequence[Source],
    *,
    retry_gone: bool,
    **fetching: Any,
) -> list[SourceReport]:
    """Fetch the sources (with `fetching`'s parser and Accept, see `collect_feeds`) while a
    thread stores what they gave."""
    from pipeline.collect.feeds import collect_feeds

    urls = [source.url for source in sources]
    with engine.begin() as connection:
        if retry_gone:
            reenable_gone(connection, urls)
        states = load_states(connection, urls)
    writer = StoreWriter(engine, partial(_store_outcomes, age=max_age(config)), urls)
    writer.start()
    try:
        collect_feeds(
            sources, states, config.collect, config.site.url, now(), writer.put, **fetching
        )
    finally:
        by_url = writer.finish()
    return [by_url[url] for url in urls]


def collect_from_pages(
    config: Config, engine: sa.Engine, *, retry_gone: bool = False
) -> list[SourceReport]:
    """Read every web page without a feed (and the articles it links to), then store their
    items and health as feeds' are."""
    from pipeline.collect.pages import PageSource, collect_pages

    unique: dict[str, Page] = {}
    for page in config.sources.pages:
        unique.setdefault(str(page.url), page)
    sources = [
        PageSource(url, page.name, page.kind, page.selectors, tuple(page.topics))
        for url, page in unique.items()
    ]
    with engine.begin() as connection:
        if retry_gone:
            reenable_gone(connection, unique)
        states = load_states(connection, unique)
        known = _stored_summaries(connection, list(unique))
    outcomes = collect_pages(
        sources, states, known, config.collect, config.site.url, config.site.timezone, now()
    )
    with engine.begin() as connection:
        return _store_outcomes(connection, outcomes, now(), age=max_age(config))


def _stored_summaries(connection: sa.Connection, urls: list[str]) -> dict[str, tuple[str, str]]:
    """The summaries the store holds for these pages' items: their articles need no new
    request."""
    query = sa.select(items.c.key, items.c.summary, items.c.body_html).where(
        sa.or_(*(items.c.key.startswith(f"page:{url}#", autoescape=True) for url in urls)),
        items.c.summary != "",
    )
    return {row.key: (row.summary, row.body_html) for row in connection.execute(query)}


def _store_outcomes(
    connection: sa.Connection,
    outcomes: Sequence[FeedOutcome | PageOutcome],
    at: datetime,
    *,
    age: timedelta | None,
) -> list[SourceReport]:
    """Store the items of every feed that answered, in one batch, then each feed's health."""
    answered = [outcome.status in ("fetched", "not_modified") for outcome in outcomes]
    groups = [outcome.items for outcome, ok in zip(outcomes, answered, strict=True) if ok]
    counts = iter(upsert_groups(connection, groups, at, age))
    stored = [next(counts) if ok else UpsertCounts() for ok in answered]
    # A calendar read anew drops what it no longer lists (a 304 changes nothing).
    read_anew = [
        (index, outcome)
        for index, outcome in enumerate(outcomes)
        if outcome.status == "fetched" and isinstance(outcome.source, CalendarSource)
    ]
    calendars = [index for index, _outcome in read_anew]
    reads = [_calendar_read(outcome) for _index, outcome in read_anew]
    for index, removed in zip(calendars, drop_cancelled(connection, reads, at), strict=True):
        stored[index].removed = removed
    return [
        _record(connection, outcome, at, counts)
        for outcome, counts in zip(outcomes, stored, strict=True)
    ]


def _calendar_read(outcome: FeedOutcome) -> CalendarRead:
    present = {item.key for item in outcome.items}
    return CalendarRead(key_prefix(outcome.source.url), present, outcome.unread)


def _record(
    connection: sa.Connection,
    outcome: FeedOutcome | PageOutcome,
    at: datetime,
    counts: UpsertCounts,
) -> SourceReport:
    """A feed's (or page's) health, and its report with the counts of its stored items."""
    source = outcome.source
    report = SourceReport(name=source.name, counts=counts)
    if outcome.status in ("fetched", "not_modified"):
        record_success(
            connection,
            source.url,
            source.name,
            at,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            items_found=len(outcome.items) if outcome.status == "fetched" else None,
        )
        if outcome.status == "not_modified":
            report.result = "not modified"
            report.note = "not modified since the last collect"
    elif outcome.status in ("failed", "gone"):
        report.result = outcome.status
        reason = outcome.error or "failed"
        record_failure(
            connection,
            source.url,
            source.name,
            at,
            reason,
            retry_after=outcome.retry_after,
            gone=outcome.status == "gone",
        )
        report.errors.append(FeedError(f"{source.name} ({source.url}): {reason}"))
    else:
        report.result = outcome.status
        report.note = outcome.error
    if outcome.warning:
        report.warnings.append(f"{source.name} ({source.url}): {outcome.warning}")
    return report


__all__ = [
    "CollectReport",
    "SourceReport",
    "collect",
    "collect_folder",
    "collect_from_calendars",
    "collect_from_feeds",
    "collect_from_pages",
]
