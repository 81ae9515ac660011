"""Fetching web pages without a feed: the listing page, then the articles it links to.

Each page ends in one `PageOutcome`, stored as feeds' outcomes are (see
`pipeline.collect.collect_from_pages`); a broken page never stops the others. Everything
goes through the feeds' guarded clients: a page configured at a public address may lead
only to public ones, and what it supplies (article links, images) is checked the same way,
even where nothing is fetched from it. Sites are asked politely (`politeness`). An article
is read only for an entry the store has no summary for yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import partial
from zoneinfo import ZoneInfo

import httpx

from pipeline.collect.article import article_text, shorten_sensibly
from pipeline.collect.feeds import (
    FetchedBody,
    FetchFailed,
    Status,
    fetch_conditional,
    gone_note,
    guarded_client,
    network_reason,
    user_agent,
)
from pipeline.collect.health import FeedState
from pipeline.collect.item import CollectedItem
from pipeline.collect.listing import Listing, ListingEntry, decode_html, parse_listing
from pipeline.collect.normalize import MAX_IDENTITY, TITLE_CHARS
from pipeline.collect.politeness import Politeness, RobotsAnswer
from pipeline.collect.sanitize import plain_text
from pipeline.config import Collect, ItemKind, PageSelectors
from pipeline.errors import AddressRefused, BodyRefused, FetchRefused
from pipeline.net import (
    MAX_REDIRECTS,
    PooledTransport,
    PublicOnlyTransport,
    QuickBackend,
    following,
    is_internal,
    read_bounded,
)

ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
ROBOTS_MAX_BYTES = 500_000  # RFC 9309: at least 500 KiB must be read
MAX_NAMED = 3  # links named in one warning
StoredSummaries = Mapping[str, tuple[str, str]]
"""Item key -> (summary, body_html) of page items the store holds with a summary."""


@dataclass(frozen=True)
class PageSource:
    url: str
    name: str
    kind: ItemKind
    selectors: PageSelectors
    topics: tuple[str, ...] = ()

    def key_of(self, entry: ListingEntry) -> str:
        identity = entry.link or "sha256:" + hashlib.sha256(entry.title.encode()).hexdigest()
        if len(identity) > MAX_IDENTITY:
            identity = "sha256:" + hashlib.sha256(identity.encode()).hexdigest()
        return f"page:{self.url}#{identity}"


@dataclass
class PageOutcome:
    source: PageSource
    status: Status
    items: list[CollectedItem] = field(default_factory=list)
    error: str | None = None
    warning: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: datetime | None = None
    listing: Listing | None = None
    """What the selectors found, when the page was read (for `sources try`)."""
    body: FetchedBody | None = None
    """The page as fetched, when it was."""


@dataclass
class _Notes:
    """What went wrong with single entries of a page: a warning, not a failure."""

    refused: list[str] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def warning(self) -> str | None:
        parts = []
        if self.refused:
            parts.append(f"left out, not public: {_named(self.refused)}")
        if self.disallowed:
            parts.append(f"robots.txt disallows reading the articles {_named(self.disallowed)}")
        if self.unread:
            parts.append(f"articles not read: {_named(self.unread)}")
        return "; ".join(parts) or None


def _named(things: list[str]) -> str:
    more = len(things) - MAX_NAMED
    return ", ".join(things[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


@dataclass
class PageRun:
    """What the pages of one collect share."""

    internal: httpx.AsyncClient
    public: httpx.AsyncClient
    politeness: Politeness
    settings: Collect
    timezone: ZoneInfo
    at: datetime
    known: StoredSummaries
    internal_hosts: dict[str, bool] = field(default_factory=dict)


def collect_pages(
    sources: Sequence[PageSource],
    states: Mapping[str, FeedState],
    known: StoredSummaries,
    settings: Collect,
    site_url: str,
    timezone: str,
    at: datetime,
) -> list[PageOutcome]:
    """Every page's outcome, in the order of `sources`; pages are read concurrently."""

    async def run_all() -> list[PageOutcome]:
        async with page_run(settings, site_url, timezone, at, known) as run:
            limit = asyncio.Semaphore(settings.concurrency)

            async def one(source: PageSource) -> PageOutcome:
                async with limit:
                    return await collect_page(run, source, states.get(source.url, FeedState()))

            return list(await asyncio.gather(*(one(source) for source in sources)))

    return asyncio.run(run_all())


@asynccontextmanager
async def page_run(
    settings: Collect, site_url: str, timezone: str, at: datetime, known: StoredSummaries
) -> AsyncIterator[PageRun]:
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=None)
    headers = {"User-Agent": user_agent(site_url), "Accept": ACCEPT}
    ssl_context = httpx.create_ssl_context()
    trusted = PooledTransport(limits, QuickBackend(), ssl_context)
    async with (
        guarded_client(trusted, settings, headers) as internal,
        guarded_client(PublicOnlyTransport(limits, ssl_context), settings, headers) as public,
    ):
        politeness = Politeness(settings.per_host)
        yield PageRun(internal, public, politeness, settings, ZoneInfo(timezone), at, known)


class PageFailed(Exception):
    """A page's turn ends here: the outcome's status and reason (and perhaps a back-off)."""

    def __init__(self, status: Status, reason: str, retry_after: datetime | None = None):
        super().__init__(reason)
        self.status: Status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchedPage:
    response: FetchedBody | None
    """None: not modified (304)."""
    client: httpx.AsyncClient
    """The client the page was fetched with, for what it links to."""
    trusted: bool
    """Configured at a non-public address: the operator trusts where it leads."""


async def collect_page(
    run: PageRun, source: PageSource, state: FeedState, *, limit: int | None = None
) -> PageOutcome:
    """The page's outcome; with `limit`, only its first entries are read (`sources try`)."""
    if state.gone_at is not None:
        return PageOutcome(source, "disabled", error=gone_note(state.gone_at))
    if state.retry_after is not None and state.retry_after > run.at:
        note = f"the server asked to wait until {state.retry_after:%Y-%m-%d %H:%M} UTC"
        return PageOutcome(source, "waiting", error=note, retry_after=state.retry_after)
    try:
        fetched = await fetch_page(run, source.url, state)
    except PageFailed as failed:
        return PageOutcome(source, failed.status, error=str(failed), retry_after=failed.retry_after)
    if fetched.response is None:
        return PageOutcome(
            source, "not_modified", etag=state.etag, last_modified=state.last_modified
        )
    return await read_page(run, source, fetched, fetched.response, limit=limit)


async def fetch_page(run: PageRun, url: str, state: FeedState) -> FetchedPage:
    """The listing page (None for a 304), robots.txt asked first; PageFailed if not."""
    trusted = await is_internal(httpx.URL(url))
    client = run.internal if trusted else run.public
    try:
        robots = await run.politeness.robots(url, partial(_robots_answer, run, client))
        if not robots.allows(url):
            reason = robots.closed or "its robots.txt disallows this page"
            raise PageFailed("failed", f"not fetched: {reason}")
        return FetchedPage(await _get(run, client, url, state), client, trusted)
    except FetchFailed as refused:
        raise PageFailed(refused.status, str(refused), refused.retry_after) from refused
    except (AddressRefused, BodyRefused, TimeoutError, httpx.HTTPError) as exc:
        raise PageFailed("failed", failure_reason(exc, run.settings)) from exc


def is_calendar(response: FetchedBody) -> bool:
    """An iCalendar file (.ics), by its type or its first line, whatever its address says."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    start = response.body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    return content_type == "text/calendar" or start.startswith(b"BEGIN:VCALENDAR")


async def read_page(
    run: PageRun,
    source: PageSource,
    fetched: FetchedPage,
    response: FetchedBody,
    *,
    limit: int | None = None,
) -> PageOutcome:
    outcome = PageOutcome(
        source,
        "fetched",
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        body=response,
    )
    if is_calendar(response):
        outcome.status = "failed"
        outcome.error = "a calendar (.ics), not a web page: list it under sources.calendars"
        return outcome
    text = decode_html(response.body, response.headers.get("content-type"))
    listing = await asyncio.to_thread(parse_listing, text, response.final_url, source.selectors)
    outcome.listing = listing
    if not listing.entries:
        outcome.status = "failed"
        outcome.error = nothing_found(source.selectors, listing)
        return outcome
    notes = _Notes()
    # An entry shown twice (a featured teaser and the list) is one item, its article read once.
    unique: dict[str, ListingEntry] = {}
    for entry in listing.entries[:limit]:
        unique.setdefault(source.key_of(entry), entry)
    entries = [
        entry
        for entry in unique.values()
        if await _public_enough(run, fetched.trusted, entry, notes)
    ]
    items = (_item(run, source, fetched, entry, notes) for entry in entries)
    outcome.items = list(await asyncio.gather(*items))
    outcome.warning = notes.warning()
    return outcome


def nothing_found(selectors: PageSelectors, listing: Listing) -> str:
    if listing.without_title_or_link:
        return (
            f"the {listing.without_title_or_link} entries `{selectors.entry}` matched have "
            f"neither a title (`{selectors.title}`) nor a link (`{selectors.link}`)"
        )
    return f"the entry selector `{selectors.entry}` matched nothing on the page (a new layout?)"


async def _get(
    run: PageRun, client: httpx.AsyncClient, url: str, state: FeedState
) -> FetchedBody | None:
    """One polite request: a slot of the host held, within `collect.timeout_s`."""
    async with run.politeness.slot(url), asyncio.timeout(run.settings.timeout_s):
        return await fetch_conditional(client, url, state, run.settings.max_bytes, run.at)


async def _robots_answer(run: PageRun, client: httpx.AsyncClient, url: str) -> RobotsAnswer:
    try:
        async with asyncio.timeout(run.settings.timeout_s), following(client, "GET", url) as done:
            response = done.response
            if not 200 <= response.status_code < 300:
                await response.aread()
                return RobotsAnswer(response.status_code)
            body = await read_bounded(response, ROBOTS_MAX_BYTES, "robots.txt's 500 KB")
            return RobotsAnswer(response.status_code, body.decode("utf-8", errors="replace"))
    except (FetchRefused, TimeoutError, httpx.HTTPError):  # a refused address too
        return RobotsAnswer(None)


async def _public_enough(run: PageRun, trusted: bool, entry: ListingEntry, notes: _Notes) -> bool:
    """Whether the entry may be kept: a public page's entry links only to public addresses
    (its image, if not, is dropped). A page the operator configured internally is trusted."""
    if trusted or entry.link is None or not await _internal(run, entry.link):
        return True
    notes.refused.append(entry.link)
    return False


async def _internal(run: PageRun, url: str) -> bool:
    parsed = httpx.URL(url)
    host = f"{parsed.host}:{parsed.port}"
    if host not in run.internal_hosts:
        run.internal_hosts[host] = await is_internal(parsed)
    return run.internal_hosts[host]


async def _item(
    run: PageRun, source: PageSource, fetched: FetchedPage, entry: ListingEntry, notes: _Notes
) -> CollectedItem:
    key = source.key_of(entry)
    if entry.summary_html is not None:
        summary, body_html = shorten_sensibly(plain_text(entry.summary_html)), entry.summary_html
    elif entry.link is None or source.selectors.summary is not None:
        summary, body_html = "", ""
    else:
        known = run.known.get(key)
        summary, body_html = known or await _article(run, fetched.client, entry.link, notes)
    image = entry.image
    if image is not None and not fetched.trusted and await _internal(run, image):
        notes.refused.append(image)
        image = None
    published = (
        datetime.combine(entry.date, time(0), run.timezone).astimezone(UTC) if entry.date else None
    )
    return CollectedItem(
        key=key,
        source=source.name,
        kind=source.kind,
        title=entry.title[:TITLE_CHARS],
        summary=summary,
        body_html=body_html,
        link=entry.link,
        image=image,
        image_alt=entry.image_alt if image else None,
        topics=source.topics,
        published_at=published or run.at,
        event=None,
        ready=True,
        undated=published is None,
    )


async def _article(
    run: PageRun, client: httpx.AsyncClient, link: str, notes: _Notes
) -> tuple[str, str]:
    """The summary from the article's main text, and that summary as the item's body."""
    robots = await run.politeness.robots(link, partial(_robots_answer, run, client))
    if not robots.allows(link):
        if robots.closed:
            notes.unread.append(f"{link} ({robots.closed})")
        else:
            notes.disallowed.append(link)
        return "", ""
    try:
        response = await _get(run, client, link, FeedState())
    except (FetchFailed, AddressRefused, BodyRefused, TimeoutError, httpx.HTTPError) as exc:
        notes.unread.append(f"{link} ({failure_reason(exc, run.settings)})")
        return "", ""
    assert response is not None  # no validators were sent: no 304
    content_type = response.headers.get("content-type", "")
    if content_type and "html" not in content_type:
        notes.unread.append(f"{link} (not a web page: {content_type.split(';')[0]})")
        return "", ""
    page = decode_html(response.body, content_type)
    text = await asyncio.to_thread(article_text, page, response.final_url)
    summary = shorten_sensibly(text)
    return summary, f"<p>{html.escape(summary)}</p>" if summary else ""


def failure_reason(exc: BaseException, settings: Collect) -> str:
    """A failed request in a phrase, as `collect` reports it."""
    if isinstance(exc, AddressRefused):
        return f"refused: {exc}; only a page configured at a non-public address may lead to one"
    if isinstance(exc, TimeoutError):
        return f"timed out after {settings.timeout_s:g} s"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects (a loop?)"
    if isinstance(exc, httpx.HTTPError):
        return network_reason(exc)
    return str(exc)


__all__ = [
    "FetchedPage",
    "PageFailed",
    "PageOutcome",
    "PageRun",
    "PageSource",
    "collect_page",
    "collect_pages",
    "fetch_page",
    "is_calendar",
    "page_run",
    "read_page",
]
