"""Issues built in memory from items described here, rendered with the real templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.config import Config, load_config
from pipeline.issue.model import IssueContent, IssueItem
from pipeline.issue.select import group_into_sections
from tests.conftest import REPO

BUILT_AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(REPO / "config.yaml")


def make_item(item_id: int, kind: str = "news", **fields: Any) -> IssueItem:
    """An item as the queue holds it; `fields` override the plain defaults."""
    base = IssueItem(
        id=item_id,
        key=f"folder:item-{item_id}.md",
        source="content folder",
        kind=kind,  # type: ignore[arg-type]
        title=f"Titel {item_id}",
        summary=f"Zusammenfassung {item_id}.",
        body_html="",
        link=f"https://example.org/items/{item_id}",
        image=None,
        image_alt=None,
        topics=(),
        published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        event_start=None,
        event_end=None,
        event_location=None,
        event_online_url=None,
    )
    if kind == "event":
        base = replace(
            base,
            event_start=datetime(2026, 12, 3, 17, 0, tzinfo=UTC),
            event_end=datetime(2026, 12, 3, 19, 0, tzinfo=UTC),
            event_location="Quartiershalle, Musterstraße 1, Wuppertal",
        )
    return replace(base, **fields)


def make_issue(*items: IssueItem, number: int = 7) -> IssueContent:
    return IssueContent(
        number=number, date=BUILT_AT, sections=group_into_sections(items, max_per_section=10)
    )


MakeIssue = Callable[..., IssueContent]
