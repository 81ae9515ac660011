"""Fetching feeds: conditional GET, a byte cap, address checks, parsing in a process pool.

Calendars are fetched the same way, with their own parser (`pipeline.collect.calendars`).
Each feed ends in one `FeedOutcome`; a broken feed never stops the others. The outcomes are
stored by `pipeline.collect.collect_feeds`. Where a feed configured at a public address
leads (its redirects) must be public too: see pipeline/net/.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol, TypeVar

import httpx

from pipeline.collect.health import FeedState
from pipeline.collect.item import CollectedItem
from pipeline.collect.normalize import ParsedFeed, parse_feed
from pipeline.config import Collect
from pipeline.errors import AddressRefused, BodyRefused
from pipeline.net import (
    ACCEPT_ENCODING,
    MAX_REDIRECTS,
    PooledTransport,
    PublicOnlyTransport,
    QuickBackend,
    following,
    is_internal,
    read_bounded,
)

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = timedelta(days=7)
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
_ONLY_INTERNAL = "; only a feed configured at a non-public address may lead to one"
Status = Literal["fetched", "not_modified", "failed", "gone", "waiting", "disabled"]


class Source(Protocol):
    """What fetching needs of a configured source (a feed or a calendar)."""

    @property
    def url(self) -> str: ...
    @property
    def name(self) -> str: ...


SourceT = TypeVar("SourceT", bound=Source)
Parser = Callable[[bytes, Mapping[str, str], str, SourceT, datetime], ParsedFeed]
"""Body, response headers, final URL, source, fetch time -> items; runs in a worker process."""


@dataclass
class FeedOutcome:
    source: Source
    status: Status
    items: list[CollectedItem] = field(default_factory=list)
    unread: tuple[str, ...] = ()
    """Key prefixes of entries that could not be read: their stored items stay as they are."""
    error: str | None = None
    warning: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: datetime | None = None


class FetchFailed(Exception):
    """A fetch that ends the feed's turn with a reason (and perhaps a back-off)."""

    def __init__(self, reason: str, status: Status = "failed", retry_after: datetime | None = None):
        super().__init__(reason)
        self.status: Status = status
        self.retry_after = retry_after


@dataclass
class FetchedBody:
    body: bytes
    headers: dict[str, str]
    final_url: str
    moved_to: str | None = None
    """The new address, when the feed's own address answered 301 or 308 (moved for good)."""


def user_agent(site_url: str) -> str:
    return f"newsletter-pipeline/0.1 (+{site_url})"


def collect_feeds(
    sources: Sequence[SourceT],
    states: dict[str, FeedState],
    settings: Collect,
    site_url: str,
    at: datetime,
    on_outcome: Callable[[FeedOutcome], None],
    *,
    parse: Parser[SourceT] = parse_feed,  # type: ignore[assignment]
    accept: str = ACCEPT,
) -> None:
    """Fetch and parse every feed concurrently; parse work is spread over the cores.

    `on_outcome` gets each feed's outcome as soon as it is known (so storing can overlap
    fetching); it must not block. `parse` (a module-level function: it is pickled to the
    workers) reads a body into items; `accept` is the Accept header sent.
    """
    workers = max(1, min(os.cpu_count() or 1, len(sources)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        asyncio.run(
            _collect_all(sources, states, settings, site_url, accept, at, pool, parse, on_outcome)
        )


async def _collect_all(
    sources: Sequence[SourceT],
    states: dict[str, FeedState],
    settings: Collect,
    site_url: str,
    accept: str,
    at: datetime,
    pool: Executor,
    parse: Parser[SourceT],
    on_outcome: Callable[[FeedOutcome], None],
) -> None:
    limit = asyncio.Semaphore(settings.concurrency)
    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=None)
    headers = {"User-Agent": user_agent(site_url), "Accept": accept}
    # Two pools, so that a connection opened for a trusted feed is never reused by another's
    # redirect: `internal` for feeds configured at a non-public address (the operator
    # trusts them, with their redirects), `public` for all others, every hop checked.
    ssl_context = httpx.create_ssl_context()
    trusted = PooledTransport(limits, QuickBackend(), ssl_context)
    async with (
        guarded_client(trusted, settings, headers) as internal,
        guarded_client(PublicOnlyTransport(limits, ssl_context), settings, headers) as public,
    ):

        async def one(source: SourceT) -> None:
            async with limit:
                outcome = await _collect_one(
                    (internal, public),
                    source,
                    states.get(source.url, FeedState()),
                    settings,
                    at,
                    pool,
                    parse,
                )
            on_outcome(outcome)

        await asyncio.gather(*(one(source) for source in sources))


def guarded_client(
    transport: httpx.AsyncBaseTransport, settings: Collect, headers: dict[str, str]
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        timeout=settings.timeout_s,
        headers=headers | {"Accept-Encoding": ACCEPT_ENCODING},
    )


async def _collect_one(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    source: SourceT,
    state: FeedState,
    settings: Collect,
    at: datetime,
    pool: Executor,
    parse: Parser[SourceT],
) -> FeedOutcome:
    if state.gone_at is not None:
        return FeedOutcome(source, "disabled", error=gone_note(state.gone_at))
    if state.retry_after is not None and state.retry_after > at:
        note = f"the server asked to wait until {state.retry_after:%Y-%m-%d %H:%M} UTC"
        return FeedOutcome(source, "waiting", error=note, retry_after=state.retry_after)
    try:
        async with asyncio.timeout(settings.timeout_s):
            internal, public = clients
            client = internal if await is_internal(httpx.URL(source.url)) else public
            response = await fetch_conditional(client, source.url, state, settings.max_bytes, at)
    except FetchFailed as refused:
        return FeedOutcome(
            source, refused.status, error=str(refused), retry_after=refused.retry_after
        )
    except AddressRefused as refused:
        log.warning("feed %s (%s): refused: %s", source.name, source.url, refused)
        return FeedOutcome(source, "failed", error=f"refused: {refused}{_ONLY_INTERNAL}")
    except BodyRefused as refused:
        return FeedOutcome(source, "failed", error=str(refused))
    except TimeoutError:
        return FeedOutcome(source, "failed", error=f"timed out after {settings.timeout_s:g} s")
    except httpx.TooManyRedirects:
        return FeedOutcome(source, "failed", error=f"more than {MAX_REDIRECTS} redirects (a loop?)")
    except httpx.HTTPError as exc:
        return FeedOutcome(source, "failed", error=network_reason(exc))
    if response is None:
        return FeedOutcome(
            source, "not_modified", etag=state.etag, last_modified=state.last_modified
        )
    loop = asyncio.get_running_loop()
    parsed: ParsedFeed = await loop.run_in_executor(
        pool, parse, response.body, response.headers, response.final_url, source, at
    )
    if parsed.error is not None:
        return FeedOutcome(source, "failed", error=parsed.error)
    return FeedOutcome(
        source,
        "fetched",
        items=parsed.items,
        unread=parsed.unread,
        warning="; ".join(note for note in (_moved_note(response), parsed.warning) if note) or None,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


def _moved_note(response: FetchedBody) -> str | None:
    if response.moved_to is None:
        return None
    return f"moved for good to {response.moved_to}: put that address in config.yaml"


def gone_note(gone_at: datetime) -> str:
    return (
        f"disabled: the server said 410 Gone on {gone_at:%Y-%m-%d}; "
        "remove the feed from config.yaml or replace its URL; once it is back, "
        "`newsletter collect --retry-gone` fetches it again"
    )


async def fetch_conditional(
    client: httpx.AsyncClient, url: str, state: FeedState, max_bytes: int, at: datetime
) -> FetchedBody | None:
    """The body of a 200, None for a 304, or FetchFailed with the reason."""
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    async with following(client, "GET", url, headers=headers) as followed:
        response = followed.response
        if response.status_code == 304:
            # A 304 has no body; reading its end lets the connection serve the next feed
            # (closed unread, it is torn down: a new connection for each feed).
            await response.aread()
            return None
        if response.status_code == 410:
            raise FetchFailed(gone_note(at), status="gone")
        if response.status_code >= 400:
            wait = _retry_after(response.headers.get("retry-after"), at)
            reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            if wait is not None:
                reason += f"; retrying after {wait:%Y-%m-%d %H:%M} UTC as the server asked"
            raise FetchFailed(reason, retry_after=wait)
        body = await read_bounded(response, max_bytes, "collect.max_bytes")
        permanent = followed.redirects[:1] in ([301], [308])
        return FetchedBody(
            body,
            dict(response.headers),
            str(response.url),
            moved_to=str(response.url) if permanent else None,
        )


def _retry_after(value: str | None, at: datetime) -> datetime | None:
    """Retry-After as seconds or an HTTP date, capped so a typo cannot silence a feed."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # `²` is a digit to isdigit, none to int
        wait = timedelta(seconds=int(value))
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        wait = moment - at
    return at + min(max(wait, timedelta(0)), MAX_RETRY_AFTER)


def network_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    return f"{type(exc).__name__}: {exc}"
