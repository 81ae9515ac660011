"""`sources try`: what collect would make of a page, before it goes into config.yaml.

The page is fetched as collect fetches it (guarded client, robots.txt, User-Agent) and
read with the selectors given; a calendar is recognised by its content, not its address.
Nothing is stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from pipeline.collect.health import FeedState
from pipeline.collect.listing import decode_html, page_title
from pipeline.collect.pages import (
    PageFailed,
    PageOutcome,
    PageSource,
    fetch_page,
    is_calendar,
    page_run,
    read_page,
)
from pipeline.config import Config, PageSelectors

TRY_ENTRIES = 5
"""Entries whose articles `sources try` reads: enough to judge, few enough to be quick."""


@dataclass
class TryResult:
    url: str
    error: str | None = None
    """Nothing could be read: why."""
    calendar: bytes | None = None
    """The body, when the address serves a calendar."""
    page_title: str | None = None
    outcome: PageOutcome | None = None
    """The page read with the selectors, when selectors were given."""


def try_source(
    url: str, selectors: PageSelectors | None, config: Config, at: datetime
) -> TryResult:
    async def attempt() -> TryResult:
        settings = config.collect
        async with page_run(settings, config.site.url, config.site.timezone, at, {}) as run:
            try:
                fetched = await fetch_page(run, url, FeedState())
            except PageFailed as failed:
                return TryResult(url, error=str(failed))
            response = fetched.response
            assert response is not None  # no validators were sent: no 304
            if is_calendar(response):
                return TryResult(url, calendar=response.body)
            text = decode_html(response.body, response.headers.get("content-type"))
            result = TryResult(url, page_title=page_title(text))
            if selectors is not None:
                source = PageSource(url, result.page_title or url, "news", selectors)
                result.outcome = await read_page(run, source, fetched, response, limit=TRY_ENTRIES)
            return result

    return asyncio.run(attempt())
