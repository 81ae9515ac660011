"""`queue restore`: items an editor dropped come back; duplicates and gone files do not.
An edited file of a dropped item is collected again."""

from __future__ import annotations

import json
from typing import Any

from tests.collect.conftest import FeedProject
from tests.collect.helpers import queue, states
from tests.collect.test_one_queue import _two_feeds
from tests.conftest import Project

EDITORIAL = "Das Netzwerk geht ans Machen"
EDITORIAL_FILE = "2022-03-01-editorial.md"


def _every(project: Project) -> dict[str, dict[str, Any]]:
    rows = json.loads(project.run("queue", "list", "--all", "--json").stdout)
    return {row["title"]: row for row in rows}


def test_restore_brings_a_dropped_item_back_to_its_state(ready_project: Project) -> None:
    item = str(_every(ready_project)[EDITORIAL]["id"])
    ready_project.run("queue", "hold", item)
    ready_project.run("queue", "drop", item)
    assert _every(ready_project)[EDITORIAL]["dropped_from"] == "held"

    restored = ready_project.run("queue", "restore", item)

    assert f"{item} dropped -> held: {EDITORIAL}" in restored.stdout
    assert _every(ready_project)[EDITORIAL]["dropped_from"] is None
    assert states(ready_project)[EDITORIAL] == "held"
    again = ready_project.run("queue", "restore", item, check=False)
    assert again.returncode == 1
    assert "cannot restore this item: it is held, not dropped" in again.stderr


def test_a_duplicate_dedup_set_aside_cannot_be_restored(feeds: FeedProject) -> None:
    _two_feeds(feeds)
    feeds.collect()
    duplicate = queue(feeds.project)["Förderprogramm verlängert: Quartiere profitieren"]
    assert duplicate["state"] == "dropped" and duplicate["dropped_from"] is None

    refused = feeds.project.run("queue", "restore", str(duplicate["id"]), check=False)

    assert refused.returncode == 1
    assert f"it repeats item {duplicate['duplicate_of']}, which is kept instead" in refused.stderr
    assert queue(feeds.project)[duplicate["title"]]["state"] == "dropped"


def test_an_item_whose_file_is_gone_cannot_be_restored(ready_project: Project) -> None:
    (ready_project.content_dir / EDITORIAL_FILE).unlink()
    ready_project.run("collect")
    item = _every(ready_project)[EDITORIAL]
    assert item["state"] == "dropped"

    refused = ready_project.run("queue", "restore", str(item["id"]), check=False)

    assert refused.returncode == 1
    assert "no editor dropped it" in refused.stderr


def test_an_edited_file_of_a_dropped_item_is_collected_again(ready_project: Project) -> None:
    item = str(_every(ready_project)[EDITORIAL]["id"])
    ready_project.run("queue", "drop", item)
    ready_project.run("collect")
    assert states(ready_project)[EDITORIAL] == "dropped"  # an unchanged file stays dropped

    path = ready_project.content_dir / EDITORIAL_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace("summary: Liebe", "summary: Nachtrag. Liebe", 1),
        encoding="utf-8",
    )
    ready_project.run("collect")

    assert states(ready_project)[EDITORIAL] == "queued"
    shown = ready_project.run("queue", "show", item, "--json").stdout
    assert json.loads(shown)["summary"].startswith("Nachtrag. Liebe")
    assert _every(ready_project)[EDITORIAL]["dropped_from"] is None


def test_a_dropped_item_edited_into_a_draft_returns_as_a_draft(ready_project: Project) -> None:
    ready_project.run("queue", "drop", str(_every(ready_project)[EDITORIAL]["id"]))
    path = ready_project.content_dir / EDITORIAL_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace("status: ready", "status: draft"),
        encoding="utf-8",
    )
    ready_project.run("collect")
    assert states(ready_project)[EDITORIAL] == "draft"
