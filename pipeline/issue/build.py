"""Building an issue: choose the items, number it, render each variant once, fill the ledger.

The preflight checks run on every rendered variant before anything is stored: an issue
that fails them is never built. All of it happens in one transaction: either the issue
exists with its items marked sent and one delivery per reader, or nothing changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline.config import Analytics, Config
from pipeline.db import deliveries, issue_items, issue_links, issue_variants, issues, items
from pipeline.errors import SendRefused
from pipeline.issue.model import IssueContent, IssueItem
from pipeline.issue.preflight import Finding, PreflightFailed, preflight
from pipeline.issue.select import group_into_sections, is_due
from pipeline.issue.variants import (
    Variant,
    content_for,
    issue_topics,
    needed_variants,
    variant_for,
    variant_numbers,
)
from pipeline.render.issue import RenderedIssue, render_issue, subject_for
from pipeline.send import ledger
from pipeline.tokens import SecretKeys
from subscribers.schema import subscribers
from subscribers.store import active_ids

LOCALES = ("de", "en")


class NothingToSend(SendRefused):
    """Fewer new items than `issue.min_items`: not an error, the next run will look again."""


@dataclass(frozen=True)
class BuiltIssue:
    id: int
    number: int
    subject: str
    item_count: int
    recipients: int
    warnings: list[Finding] = field(default_factory=list)


def item_from_row(row: sa.Row[tuple[object, ...]]) -> IssueItem:
    m = row._mapping

    return IssueItem(
        id=m["id"],
        key=m["key"],
        source=m["source"],
        kind=m["kind"],
        title=m["title"],
        summary=m["summary"],
        body_html=m["body_html"],
        link=m["link"],
        image=m["image"],
        image_alt=m["image_alt"],
        topics=tuple(m["topics"] or ()),
        published_at=m["published_at"],
        event_start=m["event_start"],
        event_end=m["event_end"],
        event_location=m["event_location"],
        event_online_url=m["event_online_url"],
        publish_after=m["publish_after"],
        expires=m["expires"],
        event_all_day=m["event_all_day"],
        correction=m["correction"],
    )


def next_issue_number(connection: sa.Connection) -> int:
    return int(connection.execute(sa.select(sa.func.max(issues.c.number))).scalar() or 0) + 1


def next_issue_content(
    connection: sa.Connection, config: Config, at: datetime, events_until: datetime | None = None
) -> IssueContent:
    """What the next issue would hold if it were built at `at` (possibly no sections).

    A calendar's occurrences are listed that begin before `events_until`: for the scheduled
    send the issue after next, by default (a manual send, a preview) `issue.event_days`
    after `at`.
    """
    if events_until is None:
        events_until = at + timedelta(days=config.issue.event_days)
    states = ("approved",) if config.issue.require_approval else ("queued", "approved")
    rows = connection.execute(sa.select(items).where(items.c.state.in_(states))).all()
    due = [item for item in map(item_from_row, rows) if is_due(item, at, events_until)]
    number = next_issue_number(connection)
    sections = group_into_sections(due, max_per_section=config.issue.max_items_per_section)
    return IssueContent(number, at, sections, _corrections(connection, at))


def _corrections(connection: sa.Connection, at: datetime) -> tuple[IssueItem, ...]:
    """Sent events moved or cancelled since, not told yet, that have not begun (soonest
    first): what the readers were told is no longer so."""
    rows = connection.execute(
        sa.select(items)
        .where(
            items.c.state == "sent",
            items.c.correction.is_not(None),
            items.c.correction_issue_id.is_(None),
            items.c.event_start > at,
        )
        .order_by(items.c.event_start, items.c.id)
    ).all()
    return tuple(map(item_from_row, rows))


def audience(connection: sa.Connection, default_locale: str) -> list[tuple[str, list[str]]]:
    """The distinct (locale, topics) choices of the active subscribers: what decides the
    variants to render. Grouped in the database, so a million readers are a handful of rows."""
    active = active_ids().subquery()
    rows = connection.execute(
        sa.select(subscribers.c.locale, _topics_text)
        .where(subscribers.c.id.in_(sa.select(active.c.id)))
        .group_by(subscribers.c.locale, _topics_text)
    )
    return [(row.locale or default_locale, _topics_of(row.topics)) for row in rows]


# JSON columns cannot be compared in PostgreSQL (json has no equality); their text can.
_topics_text = sa.cast(subscribers.c.topics, sa.Text).label("topics")


def _topics_of(text: str | None) -> list[str]:
    value = json.loads(text) if text else []
    return [str(topic) for topic in value] if isinstance(value, list) else []


def render_variants(
    content: IssueContent,
    config: Config,
    readers: Iterable[tuple[str, Iterable[str]]] = (),
    preview_keys: SecretKeys | None = None,
    *,
    as_sent: bool = False,
) -> list[RenderedIssue]:
    """The full issue in every language, and each topic variant the readers need, once each.

    `preview_keys` signs the calendar links: for a preview or a test, never for the issue.
    `as_sent` renders the issue's mails as `analytics` counts them (tracked links, the
    opens image); previews and tests show plain links.

    Topic selections that leave the same items share one render; a selection that leaves
    none is not rendered (its readers get no mail this time, see `_cancel_empty`).
    """
    rendered: dict[tuple[str, tuple[int, ...]], RenderedIssue] = {}
    out = []
    for variant in needed_variants(readers, content, always=LOCALES):
        shown = content_for(content, variant)
        if variant.topics is not None and not shown.items:
            continue
        same = (variant.locale, tuple(item.id for item in shown.items))
        if same not in rendered:
            analytics = config.analytics if as_sent else None
            rendered[same] = _render(shown, config, variant, preview_keys, analytics)
        out.append(replace(rendered[same], key=variant.key))
    return out


def _cancel_empty(
    connection: sa.Connection, issue_id: int, content: IssueContent, at: datetime
) -> int:
    """Cancel the deliveries of readers none of whose topics this issue has items for.

    Decided once per distinct topic choice, then one UPDATE each: no reader is loaded.
    """
    topics_in_issue = issue_topics(content)
    choices = connection.execute(sa.select(_topics_text).distinct()).scalars().all()
    cancelled = 0
    for text in choices:
        variant = variant_for("", _topics_of(text), topics_in_issue)
        if content_for(content, variant).items:
            continue
        readers = sa.select(subscribers.c.id).where(_topics_text == text)
        cancelled += connection.execute(
            sa.update(deliveries)
            .where(deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id.in_(readers))
            .values(state="cancelled", updated_at=at)
        ).rowcount
    return cancelled


def _render(
    content: IssueContent,
    config: Config,
    variant: Variant,
    preview_keys: SecretKeys | None = None,
    analytics: Analytics | None = None,
) -> RenderedIssue:
    override_dirs = [config.issue.templates_dir] if config.issue.templates_dir else []
    return render_issue(
        content,
        site=config.site,
        locale=variant.locale,
        subject=subject_for(config.issue.subject, content, config.site, variant.locale),
        override_dirs=override_dirs,
        key=variant.key,
        preview_keys=preview_keys,
        analytics=analytics,
    )


def render_full(
    content: IssueContent, config: Config, locale: str, preview_keys: SecretKeys | None = None
) -> RenderedIssue:
    """The full issue in one language (what the web view and the desk's preview show)."""
    return _render(content, config, Variant(locale, None), preview_keys)


def unfinished_issue(connection: sa.Connection) -> tuple[int, int] | None:
    """(id, number) of an issue whose send has not finished, if any."""
    row = connection.execute(
        sa.select(issues.c.id, issues.c.number).where(issues.c.state == "sending")
    ).first()
    return None if row is None else (row.id, row.number)


def build_issue(
    engine: sa.Engine, config: Config, at: datetime, events_until: datetime | None = None
) -> BuiltIssue:
    """Build the next issue (see `next_issue_content` for `events_until`)."""
    with engine.begin() as connection:
        unfinished = unfinished_issue(connection)
        if unfinished is not None:
            raise SendRefused(
                f"issue {unfinished[1]} has not finished sending: "
                "run `newsletter send --resume` to finish it first"
            )
        content = next_issue_content(connection, config, at, events_until)
        if len(content.items) < config.issue.min_items:
            raise NothingToSend(_why_nothing(connection, config, len(content.items)))
        readers = audience(connection, config.site.locale)
        variants = render_variants(content, config, readers, as_sent=True)
        findings = preflight(variants, config)
        if any(finding.is_error for finding in findings):
            raise PreflightFailed(findings)
        issue_id = _insert_issue(connection, content, variants, at)
        recipients = ledger.create_deliveries(connection, issue_id, at)
        recipients -= _cancel_empty(connection, issue_id, content, at)
    return BuiltIssue(
        id=issue_id,
        number=content.number,
        subject=variants[0].subject,
        item_count=len(content.items),
        recipients=recipients,
        warnings=findings,
    )


def _why_nothing(connection: sa.Connection, config: Config, ready: int) -> str:
    reason = (
        f"nothing new to send: {ready} new item(s) ready, issue.min_items is "
        f"{config.issue.min_items}"
    )
    if config.issue.require_approval:
        waiting = connection.execute(
            sa.select(sa.func.count()).select_from(items).where(items.c.state == "queued")
        ).scalar_one()
        if waiting:
            reason += f"; {waiting} queued item(s) await approval (`newsletter queue approve`)"
    return reason


def _insert_issue(
    connection: sa.Connection,
    content: IssueContent,
    variants: Sequence[RenderedIssue],
    at: datetime,
) -> int:
    issue_id: int = connection.execute(
        sa.insert(issues)
        .values(number=content.number, subject=variants[0].subject, state="sending", created_at=at)
        .returning(issues.c.id)
    ).scalar_one()
    connection.execute(
        sa.insert(issue_items),
        [
            {"issue_id": issue_id, "item_id": item.id, "position": position}
            for position, item in enumerate(content.items)
        ],
    )
    connection.execute(
        sa.update(items)
        .where(items.c.id.in_([item.id for item in content.items]))
        .values(state="sent", issue_id=issue_id, updated_at=at)
    )
    if content.corrections:
        connection.execute(
            sa.update(items)
            .where(items.c.id.in_([item.id for item in content.corrections]))
            .values(correction_issue_id=issue_id)
        )
    connection.execute(
        sa.insert(issue_variants),
        [
            {
                "issue_id": issue_id,
                "variant": variant.variant_key,
                "subject": variant.subject,
                "html": variant.html,
                "text": variant.text,
            }
            for variant in variants
        ],
    )
    numbers = variant_numbers(variant.variant_key for variant in variants)
    links = [
        {
            "issue_id": issue_id,
            "variant_no": numbers[variant.variant_key],
            "variant": variant.variant_key,
            "position": link.position,
            "url": link.url,
            "item_id": link.item_id,
            "kind": link.kind,
        }
        for variant in variants
        for link in variant.links
    ]
    if links:
        connection.execute(sa.insert(issue_links), links)
    return issue_id
