"""Choosing the next issue's items: a pure function of the queue and the moment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pipeline.issue.model import SECTION_ORDER, IssueItem, Section


def is_due(item: IssueItem, at: datetime) -> bool:
    """Whether an item may appear in an issue built at `at`."""
    if item.publish_after is not None and item.publish_after > at:
        return False
    if item.expires is not None and item.expires <= at:
        return False
    # An event that has begun is news nobody can act on any more.
    return item.event_start is None or item.event_start > at


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
