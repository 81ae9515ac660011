"""The `submitted` state: a submission waits for an editor's approval whatever
issue.require_approval says, hold and drop work on it, and in dedup it never wins over a
feed's or the folder's item; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipeline.collect.item import CollectedItem
from pipeline.config import Config
from pipeline.db import items
from pipeline.issue.build import next_issue_content
from pipeline.queue.actions import apply_action
from pipeline.queue.store import upsert
from pipeline.queue.submissions import store_submission, submission_key
from tests.collect.helpers import news_item
from tests.conftest import REPO

AT = datetime(2026, 12, 7, 12, tzinfo=UTC)
LINK = "https://partner.example.org/news/sommerfest"
TITLE = "Sommerfest im Quartier am Hafen"


def _submission(fingerprint: str = "a1", **changes: object) -> CollectedItem:
    item = news_item(
        submission_key(None, fingerprint),
        "Öffentliches Formular",
        TITLE,
        LINK,
        AT - timedelta(hours=1),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def _state(engine: sa.Engine, key: str) -> str:
    with engine.connect() as connection:
        return str(connection.execute(sa.select(items.c.state).where(items.c.key == key)).scalar())


def _issue_titles(engine: sa.Engine, require_approval: bool) -> list[str]:
    config = Config.model_validate(
        __import__("yaml").safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    )
    config = config.model_copy(
        update={"issue": config.issue.model_copy(update={"require_approval": require_approval})}
    )
    with engine.connect() as connection:
        content = next_issue_content(connection, config, AT)
    return [item.title for section in content.sections for item in section.items]


@pytest.mark.parametrize("require_approval", [False, True])
def test_a_submission_goes_out_only_after_an_editors_approval(
    engine: sa.Engine, require_approval: bool
) -> None:
    stored = store_submission(engine, _submission(), None, AT)
    assert (stored.state, stored.new) == ("submitted", True)
    assert TITLE not in _issue_titles(engine, require_approval)
    apply_action(engine, [str(stored.item_id)], "approve", AT)
    assert _state(engine, _submission().key) == "approved"
    assert TITLE in _issue_titles(engine, require_approval)


def test_a_held_submission_is_released_to_wait_for_approval_again(engine: sa.Engine) -> None:
    stored = store_submission(engine, _submission(), None, AT)
    ref = [str(stored.item_id)]
    apply_action(engine, ref, "hold", AT)
    assert _state(engine, _submission().key) == "held"
    assert apply_action(engine, ref, "release", AT) == [
        f"{stored.item_id} held -> submitted: {TITLE}"
    ]
    apply_action(engine, ref, "drop", AT)
    assert _state(engine, _submission().key) == "dropped"
    apply_action(engine, ref, "restore", AT)
    assert _state(engine, _submission().key) == "submitted"
    assert TITLE not in _issue_titles(engine, require_approval=False)


def test_two_copies_of_one_submission_are_one_item(engine: sa.Engine) -> None:
    first = store_submission(engine, _submission(), 7, AT)
    again = store_submission(engine, _submission(), 7, AT + timedelta(seconds=2))
    assert (again.item_id, again.new) == (first.item_id, False)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(items.c.state, items.c.partner_id)).all()
    assert [tuple(row) for row in rows] == [("submitted", 7)]


def test_a_submission_never_replaces_a_feeds_item(engine: sa.Engine) -> None:
    feed = news_item("feed:https://partner.example.org/feed#1", "Partner-Feed", TITLE, LINK, AT)
    with engine.begin() as connection:
        upsert(connection, [feed], AT)
    stored = store_submission(engine, _submission(), None, AT)
    assert not stored.new
    assert _state(engine, feed.key) == "queued"
    assert _state(engine, _submission().key) == "dropped"  # set aside as its duplicate


def test_the_folder_still_wins_over_a_submission(engine: sa.Engine) -> None:
    store_submission(engine, _submission(), None, AT)
    folder = news_item("folder:2026-12-07-sommerfest.md", "content folder", TITLE, LINK, AT)
    with engine.begin() as connection:
        upsert(connection, [folder], AT + timedelta(minutes=5))
    assert _state(engine, folder.key) == "queued"
    assert _state(engine, _submission().key) == "dropped"


def test_release_never_moves_a_waiting_submission_into_the_queue(engine: sa.Engine) -> None:
    stored = store_submission(engine, _submission(), None, AT)
    apply_action(engine, [str(stored.item_id)], "release", AT)
    assert _state(engine, _submission().key) == "submitted"
