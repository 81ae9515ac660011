"""`preflight --links`: ask every link of the issue whether it still answers.

Off by default: it goes out to the network and other people's servers. A link that
answers 4xx/5xx, or not at all, is a warning naming the item it comes from; links to the
site's own pages (per-reader links, the archive, calendar files) are not asked.

The links come from feeds and editors, not from the operator: a link to a non-public
address (the machine itself, the private network, a metadata address), or one that
redirects there, is not fetched at all and is reported as not checked, with the same words
whatever answers there, so the check cannot be used to scan the internal network. Bodies
are never read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx

from pipeline.config import Config
from pipeline.errors import AddressRefused
from pipeline.issue.preflight import Finding, links_in, origin
from pipeline.net import MAX_REDIRECTS, PublicOnlyTransport, following
from pipeline.render.issue import RenderedIssue

USER_AGENT = "newsletter-pipeline link check"


async def check_links(
    variants: Sequence[RenderedIssue],
    config: Config,
    *,
    timeout_s: float = 10,
    concurrency: int = 8,
) -> list[Finding]:
    owners: dict[str, str] = {}
    for variant in variants:
        items = variant.content.items if variant.content is not None else ()
        for url in links_in(variant.html):
            if not url.startswith(("http://", "https://")) or url.startswith(config.site.url):
                continue
            item = next(
                (i for i in items if url in (i.link, i.event_online_url) or url in i.body_html),
                None,
            )
            owners.setdefault(url, origin(item) if item is not None else "template issue.mjml.j2")
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        transport=PublicOnlyTransport(httpx.Limits(max_connections=concurrency)),
        timeout=timeout_s,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    ) as client:

        async def ask(url: str) -> Finding | None:
            async with limit:
                problem = await _problem(client, url)
            return None if problem is None else Finding("warning", owners[url], problem)

        answers = await asyncio.gather(*(ask(url) for url in owners))
    return [finding for finding in answers if finding is not None]


async def _problem(client: httpx.AsyncClient, url: str) -> str | None:
    try:
        status, reason = await _ask(client, "HEAD", url)
        if status in (405, 501):  # servers that refuse HEAD may still serve GET
            status, reason = await _ask(client, "GET", url)
    except AddressRefused:
        return f"link {url} not checked: non-public address"
    except httpx.TooManyRedirects:
        return f"link {url} redirects more than {MAX_REDIRECTS} times"
    except httpx.HTTPError as exc:
        return f"link {url} does not answer ({type(exc).__name__})"
    if status >= 400:
        return f"link {url} answers {status} {reason}"
    return None


async def _ask(client: httpx.AsyncClient, method: str, url: str) -> tuple[int, str]:
    """The status of the last answer; its body, if any, is left unread."""
    async with following(client, method, url) as followed:
        return followed.response.status_code, followed.response.reason_phrase
