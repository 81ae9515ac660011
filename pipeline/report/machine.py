"""Which clicks are link scanners', not readers': the rules, as a function of the clicks.

Scanners (Microsoft Safe Links, Proofpoint, Mimecast, Gmail's proxies) fetch the links of
a mail within seconds of its delivery. A click is a machine's, and says why, when it is

- `head`: a HEAD request (a browser following a link sends GET);
- `agent`: from a user agent that names a scanner or a fetcher, or from none at all;
- `early`: sooner than `analytics.scanner_window_s` after its batch was composed;
- `sweep`: one of >= 3 distinct links of one mail (its nonce) within `WINDOW_S`, or of
  every link of a mail with fewer;
- `crowd`: one of >= `CROWD_MAILS` mails (nonces) clicked from one (IP, user agent)
  within `WINDOW_S`: a gateway that scans the mails of a whole organisation.

A sweep and a crowd are only seen from their later clicks, so `MachineRules` holds each
click for `WINDOW_S` before it lets it go with its verdict: every click of a sweep counts
as the sweep's. The (IP, user agent) pairs live only here, in memory, for those seconds;
nothing of them is ever stored. No I/O: the caller gives the times and takes the verdicts.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

Row = TypeVar("Row")

HEAD = "head"
AGENT = "agent"
EARLY = "early"
SWEEP = "sweep"
CROWD = "crowd"
REASONS = (HEAD, AGENT, EARLY, SWEEP, CROWD)

WINDOW_S = 3.0
"""How close together a sweep's or a crowd's clicks come, and how long a click is held."""
SWEEP_LINKS = 3
CROWD_MAILS = 5
MAX_USER_AGENT = 256
"""Characters of a user agent kept for the crowd rule: its start tells clients apart."""

SCANNER_AGENTS = re.compile(
    "|".join(
        re.escape(word)
        for word in (
            # Mail security gateways and the link checks of mail clients.
            "proofpoint",
            "urldefense",
            "mimecast",
            "barracuda",
            "safelinks",
            "symantec",
            "forcepoint",
            "trend micro",
            "trendmicro",
            "ironport",
            "fireeye",
            "zscaler",
            "sophos",
            "fortiguard",
            "existence discovery",  # Microsoft Office asks before it opens a link
            "protocol discovery",
            # Link previews, crawlers and HTTP libraries: no reader behind them.
            "bot",
            "crawler",
            "spider",
            "preview",
            "facebookexternalhit",
            "python-",
            "curl/",
            "wget",
            "go-http-client",
            "java/",
            "okhttp",
            "apache-httpclient",
            "libwww",
            "scrapy",
        )
    )
)
"""Words of scanners' user agents, lower-case (matched against the lower-cased agent:
IGNORECASE makes the search several times slower)."""


@lru_cache(maxsize=4096)  # a few browsers' agents make most clicks
def scanner_agent(user_agent: str) -> bool:
    """A user agent no reader's browser sends: a scanner's, a fetcher's, or none."""
    return not user_agent.strip() or SCANNER_AGENTS.search(user_agent.lower()) is not None


@dataclass(frozen=True, slots=True)
class Hit:
    """A request for a tracked link or an open's image, as the rules see it."""

    at: float
    """When it came, Unix seconds."""
    head: bool
    minute: int
    """The Unix minute its mail's batch was composed in (from the token)."""
    nonce: bytes
    """The mail's own random nonce (from the token)."""
    link: int | None
    """The link's position in its mail; None for an open."""
    links_in_mail: int
    ip: str
    user_agent: str


def early(hit: Hit, scanner_window_s: float) -> bool:
    """Sooner than the window after the batch was composed. The token keeps only the
    minute, so the window runs from that minute's end: a mail composed in its last second
    is as early then as one composed in its first. A window of 0 turns the rule off."""
    return scanner_window_s > 0 and hit.at < (hit.minute + 1) * 60 + scanner_window_s


def first_reason(hit: Hit, scanner_window_s: float) -> str | None:
    """The verdict one request gives on its own (sweeps and crowds need the others)."""
    if hit.head:
        return HEAD
    if scanner_agent(hit.user_agent):
        return AGENT
    if early(hit, scanner_window_s):
        return EARLY
    return None


class _Held(Generic[Row]):
    __slots__ = ("at", "group_keys", "reason", "row")

    def __init__(self, row: Row, at: float, reason: str | None) -> None:
        self.row = row
        self.at = at
        self.reason = reason
        self.group_keys: tuple[Hashable, Hashable] = ((), ())


class _Group(Generic[Row]):
    """The clicks of one mail, or of one (IP, user agent), in the last `WINDOW_S`."""

    __slots__ = ("distinct", "recent")

    def __init__(self) -> None:
        self.recent: deque[tuple[_Held[Row], Hashable]] = deque()
        self.distinct: dict[Hashable, int] = {}

    def add(
        self, held: _Held[Row], value: Hashable, since: float, needed: int, reason: str
    ) -> None:
        """Count `value` (a link, or a mail); once `needed` distinct values came since
        `since`, every click still in the window carries `reason` (if it has none yet)."""
        recent, distinct = self.recent, self.distinct
        while recent and recent[0][0].at < since:
            _, old = recent.popleft()
            if distinct[old] == 1:
                del distinct[old]
            else:
                distinct[old] -= 1
        was = len(distinct) >= needed
        recent.append((held, value))
        distinct[value] = distinct.get(value, 0) + 1
        if was:
            held.reason = held.reason or reason
        elif len(distinct) >= needed:
            for earlier, _ in recent:
                earlier.reason = earlier.reason or reason


class MachineRules(Generic[Row]):
    """Give it every hit (`add`) with the row it will become; take the rows back with their
    verdict (None: a reader's) once they have been held long enough (`release`)."""

    def __init__(
        self,
        scanner_window_s: float,
        *,
        window_s: float = WINDOW_S,
        sweep_links: int = SWEEP_LINKS,
        crowd_mails: int = CROWD_MAILS,
    ) -> None:
        self._scanner_window_s = scanner_window_s
        self._window_s = window_s
        self._sweep_links = sweep_links
        self._crowd_mails = crowd_mails
        self._held: deque[_Held[Row]] = deque()
        self._mails: dict[Hashable, _Group[Row]] = {}
        self._clients: dict[Hashable, _Group[Row]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def add(self, hit: Hit, row: Row) -> None:
        held = _Held(row, hit.at, first_reason(hit, self._scanner_window_s))
        since = hit.at - self._window_s
        mail_key: Hashable = hit.nonce
        client_key: Hashable = (hit.ip, hit.user_agent[:MAX_USER_AGENT])
        held.group_keys = (mail_key, client_key)
        if hit.link is not None:
            needed = max(2, min(self._sweep_links, hit.links_in_mail))
            mail = self._mails.get(mail_key) or self._mails.setdefault(mail_key, _Group())
            mail.add(held, hit.link, since, needed, SWEEP)
        client = self._clients.get(client_key) or self._clients.setdefault(client_key, _Group())
        client.add(held, hit.nonce, since, self._crowd_mails, CROWD)
        self._held.append(held)

    def release(self, now: float) -> list[tuple[Row, str | None]]:
        """The rows held for `window_s` by `now`, in the order they came."""
        released = []
        while self._held and self._held[0].at <= now - self._window_s:
            released.append(self._let_go(self._held.popleft()))
        return released

    def release_all(self) -> list[tuple[Row, str | None]]:
        """Every row still held, with the verdict known so far (on shutdown)."""
        released = [self._let_go(held) for held in self._held]
        self._held.clear()
        self._mails.clear()
        self._clients.clear()
        return released

    def _let_go(self, held: _Held[Row]) -> tuple[Row, str | None]:
        mail_key, client_key = held.group_keys
        for groups, key in ((self._mails, mail_key), (self._clients, client_key)):
            group = groups.get(key)
            # The group's last click going: nothing later can join its window any more.
            if group is not None and group.recent and group.recent[-1][0] is held:
                del groups[key]
        return held.row, held.reason
