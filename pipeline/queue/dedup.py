"""The dedup rule: the same story from two sources is one item, and the folder's version wins.

Two items are the same story when their links match once normalised (scheme, `www.`,
trailing slash, fragment and tracking parameters ignored), or else when their titles match
once normalised (case, punctuation, spacing ignored). Two events are the same story only
when they also start on the same day, and an event never repeats a story that is not an
event (a report about an event is not the event): an event's keys name its day, see
`story_keys`. So the weekly occurrences of one series (one title, one link) stay apart,
and a partner's calendar entry and the editors' file for one evening are one item.
Pure functions of data.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
        "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "wt_mc", "wt.mc_id", "at_medium",
        "at_campaign", "ito", "cmpid", "pk_campaign", "pk_kwd", "pk_source", "pk_medium",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_")
URL_KEY_CHARS = 2000  # the store's column


@functools.lru_cache(maxsize=4096)  # a calendar's series repeats its link in every occurrence
def url_key(url: str | None) -> str | None:
    """A link reduced to what names the story; None when there is no http(s) link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode(
        sorted(
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(name)
        )
    )
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or "/"
    return urlunsplit(("", host, path, query, "")).removeprefix("//")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def title_key(title: str) -> str | None:
    """A title reduced to its words; None for titles too short to identify a story."""
    decomposed = unicodedata.normalize("NFKC", title).casefold()
    words = re.findall(r"\w+", decomposed)
    key = " ".join(words)
    return key if len(words) >= 3 and len(key) >= 12 else None


def story_keys(
    link: str | None, title: str, event_day: date | None
) -> tuple[str | None, str | None]:
    """The link's and the title's key of an item; an event's (starting on `event_day`, in
    the site's time zone) are marked with that day, so they match only events of the day."""
    keys = url_key(link), title_key(title)
    if event_day is None:
        return keys
    mark = f"event:{event_day.isoformat()} "
    by_url, by_title = (None if key is None else mark + key for key in keys)
    if by_url is not None and len(by_url) > URL_KEY_CHARS:
        by_url = mark + "sha256:" + hashlib.sha256(by_url.encode()).hexdigest()
    return by_url, by_title


@dataclass(frozen=True)
class Candidate:
    """What dedup needs to know of an item already in the queue."""

    id: int
    from_folder: bool
    url_key: str | None
    title_key: str | None


def find_same_story(
    url: str | None, title: str | None, others: Iterable[Candidate]
) -> Candidate | None:
    """The first item telling the same story: a link match beats a title match."""
    by_title = None
    for other in others:
        if url is not None and other.url_key == url:
            return other
        if by_title is None and title is not None and other.title_key == title:
            by_title = other
    return by_title


def source_rank(key: str) -> int:
    """Whose version of a story is kept: the folder's (2) over a feed's, page's or
    calendar's (1) over one sent in through `/submit` (0)."""
    if key.startswith("folder:"):
        return 2
    return 0 if key.startswith("submit:") else 1


def newcomer_wins(newcomer_rank: int, existing_rank: int, existing_sent: bool) -> bool:
    """Whether a newly collected item replaces the stored one that tells the same story.

    Only a higher-ranked source's version replaces another's (`source_rank`: the folder's
    a feed's, a feed's a submission's, never the other way), and only until that one was
    sent: what was sent stays sent, and among equals the first one seen is kept.
    """
    return newcomer_rank > existing_rank and not existing_sent
