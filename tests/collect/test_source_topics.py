"""Every source may name its topics: its items carry them, so a reader who chose other
topics no longer gets them (an item without topics goes to every reader)."""

from __future__ import annotations

from typing import Any

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import queue


def _feeds_with_topics(feeds: FeedProject, topics: dict[str, list[str]]) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["sources"]["feeds"] = [
            {"name": name, "url": feeds.server.url(f"/{name}.xml"), "topics": chosen}
            for name, chosen in topics.items()
        ]
        raw["collect"] = {"timeout_s": 5, "max_age_days": None}

    feeds.project.edit_config(change)


def test_a_feeds_topics_go_to_each_of_its_items_with_those_its_categories_name(
    feeds: FeedProject,
) -> None:
    feeds.server.routes["/Herne.xml"] = Route.feed("rss20.xml")  # its entry: category Partner
    feeds.server.routes["/Atom.xml"] = Route.feed("atom10.xml")  # no category naming a topic
    feeds.server.routes["/Ohne.xml"] = Route.feed("rss091.xml")
    _feeds_with_topics(
        feeds, {"Herne": ["veranstaltungen"], "Atom": ["netzwerk", "partner"], "Ohne": []}
    )

    report = feeds.collect()

    assert not report.failed
    held = queue(feeds.project)
    assert held["Richtfest in der Bahnhofstraße"]["topics"] == ["veranstaltungen", "partner"]
    assert held["Kooperation besiegelt"]["topics"] == ["netzwerk", "partner"]
    assert held["Sprechstunde im Quartiersbüro"]["topics"] == []


def test_a_topic_config_yaml_does_not_name_is_refused_with_its_key(feeds: FeedProject) -> None:
    feeds.server.routes["/Herne.xml"] = Route.feed("rss20.xml")
    _feeds_with_topics(feeds, {"Herne": ["netzwerk"], "Atom": ["netzwerk", "sport"]})

    result = feeds.project.run("collect", check=False)

    assert result.returncode == 2
    assert "sources.feeds.1.topics: unknown topic 'sport'" in result.stderr
    assert "config.yaml's `topics` are netzwerk, veranstaltungen, partner" in result.stderr
    assert feeds.server.seen == [], "nothing is collected with a config in error"
