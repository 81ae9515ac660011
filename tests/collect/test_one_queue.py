"""One queue across sources: the same story is one item, and the folder's version wins."""

from __future__ import annotations

import textwrap

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import queue, states, states_of

STORY = "Förderprogramm Quartiere verlängert"
OPEN_DAY = "Tag der offenen Tür im Kulturhaus"


def _two_feeds(feeds: FeedProject) -> None:
    feeds.server.routes["/a.xml"] = Route.feed("duplicates-a.xml")
    feeds.server.routes["/b.xml"] = Route.feed("duplicates-b.xml")
    feeds.configure({"Feed A": "/a.xml", "Feed B": "/b.xml"})


def _write_story_file(feeds: FeedProject) -> None:
    (feeds.project.content_dir / "foerderprogramm.md").write_text(
        textwrap.dedent(
            """\
            ---
            # Case: the folder's own version of a story that feed A also carries.
            title: "Förderprogramm für Quartiere bis 2028 verlängert"
            kind: news
            date: 2026-11-02
            summary: Unsere Zusammenfassung für das Netzwerk.
            link: https://foerderung.example.org/programm
            ---
            """
        ),
        encoding="utf-8",
    )


def test_the_same_story_in_two_feeds_is_queued_once(feeds: FeedProject) -> None:
    _two_feeds(feeds)

    report = feeds.collect()
    again = feeds.collect()

    b = next(s for s in report.sources if s.name == "Feed B")
    assert (b.counts.new, b.counts.duplicates) == (0, 2)
    held = queue(feeds.project)
    assert held[STORY]["state"] == "queued" and held[STORY]["source"] == "Feed A"
    assert held[OPEN_DAY]["state"] == "queued"
    by_link = held["Förderprogramm verlängert: Quartiere profitieren"]
    assert (by_link["state"], by_link["duplicate_of"]) == ("dropped", held[STORY]["id"])
    assert held["Tag der offenen Tür im Kulturhaus!"]["duplicate_of"] == held[OPEN_DAY]["id"]
    assert all(s.counts.new == 0 and s.counts.duplicates == 0 for s in again.sources)


def test_the_folders_version_wins_when_it_comes_first(feeds: FeedProject) -> None:
    _write_story_file(feeds)
    _two_feeds(feeds)

    feeds.collect()

    held = states(feeds.project)
    assert held["Förderprogramm für Quartiere bis 2028 verlängert"] == "queued"
    assert held[STORY] == "dropped"
    assert held["Förderprogramm verlängert: Quartiere profitieren"] == "dropped"


def test_the_folders_version_wins_when_it_comes_later(feeds: FeedProject) -> None:
    _two_feeds(feeds)
    feeds.collect()
    _write_story_file(feeds)

    feeds.collect()

    held = queue(feeds.project)
    mine = held["Förderprogramm für Quartiere bis 2028 verlängert"]
    assert mine["state"] == "queued"
    assert (held[STORY]["state"], held[STORY]["duplicate_of"]) == ("dropped", mine["id"])


def test_a_sent_story_is_not_sent_again_from_another_feed(feeds: FeedProject) -> None:
    feeds.server.routes["/a.xml"] = Route.feed("duplicates-a.xml")
    feeds.configure({"Feed A": "/a.xml"})
    feeds.collect()
    feeds.project.run("send")
    _two_feeds(feeds)

    feeds.collect()

    assert states_of(feeds.project, STORY) == ["sent"]
    assert states(feeds.project)["Förderprogramm verlängert: Quartiere profitieren"] == "dropped"


def test_the_first_feed_in_config_keeps_a_story_even_when_it_answers_last(
    feeds: FeedProject,
) -> None:
    feeds.server.routes["/a.xml"] = Route.feed("duplicates-a.xml", delay_s=1)
    feeds.server.routes["/b.xml"] = Route.feed("duplicates-b.xml")
    feeds.configure({"Feed A": "/a.xml", "Feed B": "/b.xml"})

    feeds.collect()

    held = queue(feeds.project)
    assert (held[STORY]["state"], held[STORY]["source"]) == ("queued", "Feed A")
    assert held["Förderprogramm verlängert: Quartiere profitieren"]["state"] == "dropped"
