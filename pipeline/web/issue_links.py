"""The destinations of an issue variant's tracked links, read once and kept in memory.

Links are written once, when the issue is built, and never change: the first click on a
variant reads all its links in one query (by the unique index on issue, variant and
position), later clicks answer from memory.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, urlsplit

import sqlalchemy as sa

from pipeline.db import issue_links, issue_variants

log = logging.getLogger(__name__)
Key = TypeVar("Key")
Value = TypeVar("Value")

MAX_VARIANTS = 4096
"""Variants kept; beyond that the longest kept goes (years of issues fit many times)."""
# What may stand unquoted in a Location header: what Starlette's RedirectResponse keeps.
_LOCATION_SAFE = ":/%#?=@[]!$&'()*+,;~"


@dataclass(frozen=True, slots=True)
class TrackedLink:
    link_id: int
    location: str
    """The destination as the Location header carries it (non-ASCII percent-encoded)."""


def location_of(url: str) -> str | None:
    """The URL as a Location header, or None when it is not an http(s) address."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return quote(url, safe=_LOCATION_SAFE)


class IssueLinks:
    def __init__(self, engine: sa.Engine, max_variants: int = MAX_VARIANTS) -> None:
        self._engine = engine
        self._max_variants = max_variants
        self._links: dict[tuple[int, int], dict[int, TrackedLink]] = {}
        self._variants: dict[int, int] = {}
        self._lock = threading.Lock()

    def cached(self, issue_id: int, variant_no: int) -> dict[int, TrackedLink] | None:
        """The variant's links by position if they are in memory (no I/O: for the loop)."""
        return self._links.get((issue_id, variant_no))

    def load(self, issue_id: int, variant_no: int) -> dict[int, TrackedLink]:
        """The variant's links by position, read from the database (blocks: a thread's)."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(issue_links.c.id, issue_links.c.position, issue_links.c.url).where(
                    issue_links.c.issue_id == issue_id, issue_links.c.variant_no == variant_no
                )
            ).all()
        links = {}
        for link_id, position, url in rows:
            location = location_of(url)
            if location is None:
                log.warning("tracked link %d is not an http(s) address: not redirected", link_id)
                continue
            links[position] = TrackedLink(link_id, location)
        # No links: nothing to keep (a valid token always names a variant that has some).
        if links:
            self._keep(self._links, (issue_id, variant_no), links)
        return links

    def variants(self, issue_id: int) -> int | None:
        """How many variants the issue has, if that is in memory (for opens, which name a
        variant but no link)."""
        return self._variants.get(issue_id)

    def load_variants(self, issue_id: int) -> int:
        """How many variants the issue has, 0 for no such issue (blocks: a thread's)."""
        with self._engine.connect() as connection:
            count = connection.scalar(
                sa.select(sa.func.count())
                .select_from(issue_variants)
                .where(issue_variants.c.issue_id == issue_id)
            )
        if count:
            self._keep(self._variants, issue_id, count)
        return count or 0

    def _keep(self, kept: dict[Key, Value], key: Key, value: Value) -> None:
        with self._lock:
            kept[key] = value
            while len(kept) > self._max_variants:
                del kept[next(iter(kept))]
