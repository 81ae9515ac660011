"""Choosing the next issue's items: a pure function of the queue and the moment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.issue.model import SECTION_ORDER, IssueItem, Section


def is_due(item: IssueItem, at: datetime, events_until: datetime | None = None) -> bool:
    """Whether an item may appear in an issue built at `at`.

    A calendar's occurrence appears only once it begins before `events_until` (the issue
    after next): a weekly series shows its next week or two, not its ninety days. The
    editors' and the feeds' events are announced as early as they come.
    """
    if item.publish_after is not None and item.publish_after > at:
        return False
    if item.expires is not None and item.expires <= at:
        return False
    if item.event_start is None:
        return True
    # An event that has begun is news nobody can act on any more.
    if item.event_start <= at:
        return False
    return events_until is None or not item.from_calendar or item.event_start < events_until


def group_into_sections(
    candidates: Iterable[IssueItem], *, max_per_section: int
) -> tuple[Section, ...]:
    """Sections in reading order, each only when it has items.

    Events read best soonest first; everything else newest first.
    """
    by_kind: dict[str, list[IssueItem]] = {kind: [] for kind in SECTION_ORDER}
    for item in candidates:
        by_kind[item.kind].append(item)
    sections = []
    for kind in SECTION_ORDER:
        chosen = by_kind[kind]
        if kind == "event":
            chosen.sort(key=lambda item: (item.event_start, item.id))
        else:
            chosen.sort(key=lambda item: (item.published_at, item.id), reverse=True)
        if chosen:
            sections.append(Section(kind=kind, items=tuple(chosen[:max_per_section])))
    return tuple(sections)
