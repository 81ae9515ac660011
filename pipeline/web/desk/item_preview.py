"""An item as it will appear in the issue, from the desk's form before anything is saved:
rendered alone, through the issue's own templates, in the editor's language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.collect.every_problem import validate_front_matter
from pipeline.collect.folder import to_item
from pipeline.collect.item import CollectedItem
from pipeline.config import Config
from pipeline.issue.build import render_full
from pipeline.issue.model import IssueContent, IssueItem, Section
from pipeline.render.personalize import Personalizable, html_values
from pipeline.render.preview import local_pictures, sample_values
from pipeline.tokens import SecretKeys


def preview_html(
    config: Config,
    front_matter: dict[str, Any],
    body: str,
    *,
    locale: str,
    item_id: int,
    number: int,
    at: datetime,
    keys: SecretKeys,
) -> str:
    """The issue's HTML holding only this item, as a sample reader sees it.

    Raises ValidationError as saving would; `item_id` names the calendar link (0 for an
    item not saved yet, whose link opens nothing until it is)."""
    fields = validate_front_matter({k: v for k, v in front_matter.items() if v not in (None, [])})
    zone = ZoneInfo(config.site.timezone)
    collected = to_item(fields, body, Path("preview.md"), zone, config.site.media_url)
    item = _issue_item(collected, item_id)
    content = IssueContent(number=number, date=at, sections=(Section(item.kind, (item,)),))
    rendered = render_full(content, config, locale, preview_keys=keys)
    filled = Personalizable.parse(rendered.html).fill(html_values(sample_values(config, locale)))
    return local_pictures(filled, config.site.url, "/media/")


def _issue_item(collected: CollectedItem, item_id: int) -> IssueItem:
    event = collected.event
    return IssueItem(
        id=item_id,
        key=collected.key,
        source=collected.source,
        kind=collected.kind,
        title=collected.title,
        summary=collected.summary,
        body_html=collected.body_html,
        link=collected.link,
        image=collected.image,
        image_alt=collected.image_alt,
        topics=collected.topics,
        published_at=collected.published_at,
        event_start=None if event is None else event.start,
        event_end=None if event is None else event.end,
        event_location=None if event is None else event.location,
        event_online_url=None if event is None else event.online_url,
    )
