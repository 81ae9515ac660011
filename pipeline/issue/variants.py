"""Issue variants: one per reader language and topic selection that the audience needs.

A reader with no topics gets every item. A reader with topics gets the items whose topics
meet theirs, plus the items that have no topics. Only the issue's own topics matter, so
readers whose choices differ outside them share a variant, and a reader who chose every
topic the issue has reads the full issue. The key is stored with the rendered variant
and is how the composer finds each reader's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from pipeline.db import issue_items, items
from pipeline.issue.model import IssueContent, IssueItem, Section

MAX_KEY_LENGTH = 100  # issue_variants.variant


@dataclass(frozen=True, order=True)
class Variant:
    locale: str
    topics: tuple[str, ...] | None
    """The issue's topics this reader chose; None for the full issue."""

    @property
    def key(self) -> str:
        if self.topics is None:
            return self.locale
        key = f"{self.locale}:{'+'.join(self.topics)}"
        if len(key) <= MAX_KEY_LENGTH:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return f"{self.locale}:#{digest}"


def issue_topics(content: IssueContent) -> frozenset[str]:
    return frozenset(topic for item in content.items for topic in item.topics)


def variant_for(
    locale: str, reader_topics: Iterable[str], topics_in_issue: frozenset[str]
) -> Variant:
    chosen = frozenset(reader_topics)
    if not chosen:
        return Variant(locale, None)
    relevant = chosen & topics_in_issue
    if relevant == topics_in_issue:
        return Variant(locale, None)
    return Variant(locale, tuple(sorted(relevant)))


def content_for(content: IssueContent, variant: Variant) -> IssueContent:
    """The issue as this variant's readers see it; sections left empty are dropped."""
    if variant.topics is None:
        return content
    wanted = set(variant.topics)

    def shown(item: IssueItem) -> bool:
        return not item.topics or bool(wanted & set(item.topics))

    sections = []
    for section in content.sections:
        chosen = tuple(filter(shown, section.items))
        if chosen:
            sections.append(Section(kind=section.kind, items=chosen))
    corrections = tuple(filter(shown, content.corrections))
    return IssueContent(content.number, content.date, tuple(sections), corrections)


def needed_variants(
    audience: Iterable[tuple[str, Iterable[str]]],
    content: IssueContent,
    *,
    always: Iterable[str] = (),
) -> list[Variant]:
    """The distinct variants for an audience of (locale, topics) pairs, in a stable order.

    `always` names locales whose full issue is rendered even with no reader for it
    (the web view and the archive show the full issue).
    """
    topics_in_issue = issue_topics(content)
    found = {Variant(locale, None) for locale in always}
    found.update(variant_for(locale, topics, topics_in_issue) for locale, topics in audience)
    return sorted(found, key=lambda v: (v.locale, v.topics is not None, v.topics or ()))


def variant_numbers(keys: Iterable[str]) -> dict[str, int]:
    """Each variant's number within its issue: 1.. in the sorted order of the keys. A click
    token carries the number instead of the key (`issue_links.variant_no`)."""
    return {key: number for number, key in enumerate(sorted(set(keys)), start=1)}


def stored_issue_topics(connection: sa.Connection, issue_id: int) -> frozenset[str]:
    """The topics of a built issue's items: what decides a reader's variant, at the send and
    in the issue's report alike."""
    return frozenset(
        topic
        for topics in connection.execute(
            sa.select(items.c.topics)
            .join(issue_items, issue_items.c.item_id == items.c.id)
            .where(issue_items.c.issue_id == issue_id)
        ).scalars()
        for topic in topics or ()
    )
