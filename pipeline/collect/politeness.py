"""Politeness towards web sites: robots.txt honoured, a few requests at a time per host.

Feeds are made to be fetched by programs; a partner's web site is not, so pages and the
articles they link to ask each site's robots.txt first (RFC 9309, read with protego) and
hold one of `collect.per_host` slots for the site while their request runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

log = logging.getLogger(__name__)
PRODUCT = "newsletter-pipeline"
"""The name robots.txt addresses us by (`User-agent: newsletter-pipeline`)."""


@dataclass(frozen=True)
class RobotsAnswer:
    """What fetching a site's /robots.txt gave: an HTTP status and its text, or no answer."""

    status: int | None
    text: str = ""


@dataclass(frozen=True)
class RobotsRules:
    rules: Protego | None
    """None: every path allowed (no robots.txt), or none (`closed`)."""
    closed: str | None = None
    """Why the whole site counts as disallowed (robots.txt could not be read)."""

    def allows(self, url: str) -> bool:
        if self.closed is not None:
            return False
        return self.rules is None or bool(self.rules.can_fetch(url, PRODUCT))


def rules_from(answer: RobotsAnswer) -> RobotsRules:
    """RFC 9309 2.3.1: 2xx is read; 4xx means no rules; 5xx or no answer closes the site."""
    if answer.status is not None and 200 <= answer.status < 300:
        return RobotsRules(Protego.parse(answer.text))
    if answer.status is not None and 400 <= answer.status < 500:
        return RobotsRules(None)
    why = f"HTTP {answer.status}" if answer.status is not None else "no answer"
    return RobotsRules(None, closed=f"its robots.txt could not be read ({why})")


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Politeness:
    """Per-host slots, and each site's robots.txt, read once a run."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._robots: dict[str, asyncio.Task[RobotsRules]] = {}

    def slot(self, url: str) -> asyncio.Semaphore:
        """Hold it while a request to `url`'s host runs."""
        host = (urlsplit(url).hostname or "").lower()
        return self._slots.setdefault(host, asyncio.Semaphore(self._per_host))

    async def robots(
        self, url: str, fetch: Callable[[str], Awaitable[RobotsAnswer]]
    ) -> RobotsRules:
        """The rules of `url`'s site; the first to ask fetches them with `fetch`, the
        others wait for that answer."""
        site = site_of(url)
        if site not in self._robots:
            self._robots[site] = asyncio.ensure_future(self._read(site, fetch))
        return await self._robots[site]

    async def _read(
        self, site: str, fetch: Callable[[str], Awaitable[RobotsAnswer]]
    ) -> RobotsRules:
        async with self.slot(site):
            answer = await fetch(site + "/robots.txt")
        rules = rules_from(answer)
        if rules.closed:
            log.warning("%s: %s; nothing of it is fetched", site, rules.closed)
        return rules
