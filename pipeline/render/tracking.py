"""The issue's links, numbered, and what a sent mail writes for them: `/r/<token>.<position>`.

An issue is rendered once per variant, so a tracked link is written with the click
placeholder where each message's token goes (`{site}/r/%%NL:click%%.3`); the position
names the link among its variant's links, which the build stores in `issue_links`.
Previews, tests and the web view show the destinations themselves: nothing counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from markupsafe import escape

from pipeline.issue.model import IssueContent, IssueItem
from pipeline.render.personalize import placeholder

CLICK = placeholder("click")


@dataclass(frozen=True)
class TrackedLink:
    position: int
    url: str
    item_id: int | None
    kind: str
    """`link` (the item's link, "read more", its picture), `online`, `calendar`."""


def numbered_links(
    content: IssueContent, calendar_link: Callable[[IssueItem], str]
) -> list[TrackedLink]:
    """Each distinct link numbered from 1 in the order the plain-text part mentions it;
    a link that two items share is one position (the first item's)."""
    found: dict[str, TrackedLink] = {}
    for item in content.items:
        calendar = calendar_link(item) if item.kind == "event" else None
        for url, kind in ((item.event_online_url, "online"), (calendar, "calendar"),
                          (item.link, "link")):  # fmt: skip
            if url and url not in found:
                found[url] = TrackedLink(len(found) + 1, url, item.id, kind)
    return list(found.values())


class Tracker:
    """The templates' `track(url)`: the tracked address of one of the issue's links, or
    the link itself when clicks are not counted (or the template asks for another URL)."""

    def __init__(self, links: list[TrackedLink], site_url: str | None):
        self._positions = {link.url: link.position for link in links}
        self._prefix = None if site_url is None else f"{site_url}/r/{CLICK}."

    def __call__(self, url: str) -> str:
        position = self._positions.get(url)
        if self._prefix is None or position is None:
            return url
        return f"{self._prefix}{position}"


def opens_pixel_url(site_url: str) -> str:
    return f"{site_url}/o/{CLICK}.gif"


def untracked(page: str, site_url: str, destinations: Mapping[int, str]) -> str:
    """A variant's HTML, before its placeholders are filled, with each tracked link's
    destination written in instead and the opens image left out: the web view counts
    nothing. A position without a destination (never built so) points at the site."""
    # Escaped as the templates escaped it (markupsafe), and the destination as well.
    link = re.compile(re.escape(str(escape(f"{site_url}/r/{CLICK}."))) + r"(\d+)")
    pixel = re.compile(
        r"<img\b[^>]*\bsrc=\"" + re.escape(str(escape(opens_pixel_url(site_url)))) + r"\"[^>]*>"
    )

    def destination(match: re.Match[str]) -> str:
        return str(escape(destinations.get(int(match.group(1)), site_url)))

    return pixel.sub("", link.sub(destination, page))
