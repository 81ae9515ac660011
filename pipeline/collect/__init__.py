"""Collect: read every source into the item queue.

Each source is read on its own; a broken file or feed is reported and the rest is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from pipeline.collect.folder import SOURCE_NAME, read_folder
from pipeline.config import Config
from pipeline.db import now
from pipeline.errors import NewsletterError
from pipeline.queue.store import UpsertCounts, drop_missing, upsert


@dataclass
class SourceReport:
    name: str
    counts: UpsertCounts
    errors: list[NewsletterError] = field(default_factory=list)


@dataclass
class CollectReport:
    sources: list[SourceReport]

    @property
    def failed(self) -> bool:
        return any(source.errors for source in self.sources)


def collect(config: Config, engine: sa.Engine) -> CollectReport:
    return CollectReport(sources=[collect_folder(config, engine)])


def collect_folder(config: Config, engine: sa.Engine) -> SourceReport:
    result = read_folder(
        config.sources.content_dir,
        timezone=config.site.timezone,
        topic_keys=[topic.key for topic in config.topics],
    )
    at = now()
    with engine.begin() as connection:
        counts = upsert(connection, result.items, at)
        if config.sources.content_dir.is_dir():
            present = {item.key for item in result.items} | result.failed_keys
            counts.removed = drop_missing(connection, "folder:", present, at)
    return SourceReport(name=SOURCE_NAME, counts=counts, errors=list(result.errors))
