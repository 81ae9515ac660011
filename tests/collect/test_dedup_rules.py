"""The dedup and expiry rules as pure functions: no server, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.queue.actions import QueueActionRefused, next_state
from pipeline.queue.dedup import (
    Candidate,
    find_same_story,
    newcomer_wins,
    source_rank,
    title_key,
    url_key,
)
from pipeline.queue.rules import Lifetime, expiry_reason

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://www.example.org/a/", "http://example.org/a"),
        ("https://example.org/a?utm_source=x&utm_medium=rss", "https://example.org/a"),
        ("https://example.org/a?id=3&fbclid=abc#top", "https://example.org/a?id=3"),
        ("https://example.org/a?b=2&a=1", "https://EXAMPLE.org/a?a=1&b=2"),
        ("https://example.org:443/a", "https://example.org/a"),
    ],
)
def test_links_that_name_the_same_story_match(one: str, other: str) -> None:
    assert url_key(one) == url_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://example.org/a?id=3", "https://example.org/a?id=4"),
        ("https://example.org/a", "https://example.org/b"),
        ("https://example.org/a", "https://example.com/a"),
    ],
)
def test_links_to_different_stories_do_not_match(one: str, other: str) -> None:
    assert url_key(one) != url_key(other)


def test_non_web_links_have_no_key() -> None:
    assert url_key("javascript:alert(1)") is None
    assert url_key(None) is None
    assert url_key("mailto:a@example.org") is None


def test_titles_match_ignoring_case_punctuation_and_spacing() -> None:
    assert title_key("Tag der offenen Tür im Kulturhaus!") == title_key(
        "tag der  offenen tür im Kulturhaus"
    )
    assert title_key("Tag der offenen Tür") != title_key("Tag der offenen Türen")


def test_short_titles_never_match_each_other() -> None:
    assert title_key("Termine") is None
    assert title_key("Editorial 3") is None


def _candidate(id: int, folder: bool, link: str | None, title: str) -> Candidate:
    return Candidate(id, folder, url_key(link), title_key(title))


def test_a_link_match_beats_an_earlier_title_match() -> None:
    others = [
        _candidate(1, False, "https://a.example.org/x", "Förderprogramm Quartiere verlängert"),
        _candidate(2, False, "https://b.example.org/y", "Ganz anderer Titel hier"),
    ]
    found = find_same_story(
        url_key("https://b.example.org/y?utm_campaign=z"),
        title_key("Förderprogramm Quartiere verlängert"),
        others,
    )
    assert found is not None and found.id == 2


def test_nothing_matches_a_new_story() -> None:
    others = [_candidate(1, False, "https://a.example.org/x", "Förderprogramm verlängert heute")]
    assert (
        find_same_story(url_key("https://a.example.org/z"), title_key("Neu hier im Netz"), others)
        is None
    )


def test_the_folders_version_wins_over_a_feed_item_not_yet_sent() -> None:
    folder, feed = source_rank("folder:a.md"), source_rank("feed:https://a.example.org/#1")
    assert newcomer_wins(folder, feed, existing_sent=False)
    assert not newcomer_wins(folder, feed, existing_sent=True)  # sent stays sent
    assert not newcomer_wins(feed, feed, existing_sent=False)  # first feed kept


def test_a_submission_never_wins_over_a_feed_or_the_folder() -> None:
    submitted = source_rank("submit:public:abc")
    for other in ("folder:a.md", "feed:https://a.example.org/#1", "calendar:x#uid"):
        assert not newcomer_wins(submitted, source_rank(other), existing_sent=False)
        assert newcomer_wins(source_rank(other), submitted, existing_sent=False)
    assert not newcomer_wins(submitted, submitted, existing_sent=False)


def _lifetime(**changes: object) -> Lifetime:
    values: dict[str, object] = {
        "published_at": NOW - timedelta(days=3),
        "expires": None,
        "event_start": None,
        "from_folder": False,
    }
    return Lifetime(**(values | changes))  # type: ignore[arg-type]


def test_an_item_expires_past_its_expiry_date() -> None:
    assert expiry_reason(_lifetime(expires=NOW), NOW, None) == "past its expiry date"
    assert expiry_reason(_lifetime(expires=NOW + timedelta(minutes=1)), NOW, None) is None


def test_an_event_that_has_started_is_no_longer_news() -> None:
    started = _lifetime(event_start=NOW - timedelta(minutes=5), from_folder=True)
    upcoming = _lifetime(event_start=NOW + timedelta(hours=1), from_folder=True)
    assert expiry_reason(started, NOW, None) == "the event has started"
    assert expiry_reason(upcoming, NOW, None) is None


def test_feed_entries_older_than_the_configured_age_expire_but_editors_items_do_not() -> None:
    old = NOW - timedelta(days=61)
    max_age = timedelta(days=60)
    assert expiry_reason(_lifetime(published_at=old), NOW, max_age) == "older than 60 days"
    assert expiry_reason(_lifetime(published_at=old, from_folder=True), NOW, max_age) is None
    assert expiry_reason(_lifetime(published_at=old), NOW, None) is None


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("queued", "hold", "held"),
        ("approved", "hold", "held"),
        ("held", "release", "queued"),
        ("queued", "approve", "approved"),
        ("held", "approve", "approved"),
        ("draft", "drop", "dropped"),
        ("approved", "drop", "dropped"),
    ],
)
def test_editors_actions_move_items(state: str, action: str, after: str) -> None:
    assert next_state(state, action) == after  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "action", "reason"),
    [
        ("sent", "drop", "has been sent"),
        ("draft", "approve", "status: ready"),
        ("dropped", "release", "it is dropped"),
        ("expired", "approve", "it is expired"),
    ],
)
def test_editors_actions_that_make_no_sense_are_refused(
    state: str, action: str, reason: str
) -> None:
    with pytest.raises(QueueActionRefused, match=reason):
        next_state(state, action)  # type: ignore[arg-type]
