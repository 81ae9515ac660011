"""The editors' commands: list, show, hold, release, drop, approve, add, check; and status."""

from __future__ import annotations

import json
from typing import Any

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import states
from tests.conftest import Project

EDITORIAL = "Das Netzwerk geht ans Machen"


def _listed(project: Project, *options: str) -> list[dict[str, Any]]:
    return list(json.loads(project.run("queue", "list", "--json", *options).stdout))


def _id_of(project: Project, title: str) -> str:
    return str(next(row["id"] for row in _listed(project, "--all") if row["title"] == title))


def test_hold_release_approve_and_drop_move_items(ready_project: Project) -> None:
    item = _id_of(ready_project, EDITORIAL)

    ready_project.run("queue", "hold", item)
    assert states(ready_project)[EDITORIAL] == "held"
    ready_project.run("queue", "release", item)
    assert states(ready_project)[EDITORIAL] == "queued"
    ready_project.run("queue", "approve", item)
    assert states(ready_project)[EDITORIAL] == "approved"
    ready_project.run("queue", "drop", item)
    assert states(ready_project)[EDITORIAL] == "dropped"

    refused = ready_project.run("queue", "approve", item, check=False)
    assert refused.returncode == 1
    assert "cannot approve this item: it is dropped" in refused.stderr


def test_list_shows_open_items_and_all_shows_every_state(ready_project: Project) -> None:
    ready_project.run("queue", "drop", _id_of(ready_project, EDITORIAL))

    open_titles = {row["title"] for row in _listed(ready_project)}
    every = {row["title"]: row for row in _listed(ready_project, "--all")}

    assert EDITORIAL not in open_titles and len(open_titles) == 5
    assert every[EDITORIAL]["state"] == "dropped"
    assert every[EDITORIAL]["source"] == "content folder"
    assert len(every) == 6
    table = ready_project.run("queue", "list").stdout
    assert "queued" in table and "dropped" not in table


def test_list_writes_local_dates_as_germans_do_and_fits_80_columns(ready_project: Project) -> None:
    lines = ready_project.run("queue", "list", in_process=False).stdout.splitlines()
    assert lines[0].split() == ["#", "state", "kind", "date", "title"]  # no room for source
    assert all(len(line) <= 80 for line in lines), lines
    by_title = {line.split("  ")[-1].strip(): line for line in lines[1:]}
    # Dated 2022-03-01 in Berlin: UTC's day before must not show.
    assert "01.03.2022" in by_title[EDITORIAL]
    assert "04.03.2027, 18:00" in next(line for line in lines if "Quartierswerkstatt" in line)
    jahresauftakt = next(line for line in lines if "Jahresauftakt" in line)
    assert jahresauftakt.endswith("…") and "Quintessenzpapier" not in jahresauftakt


def test_show_writes_times_in_the_site_time_zone(ready_project: Project) -> None:
    item = next(
        row["id"] for row in _listed(ready_project) if row["title"].startswith("Quartierswerkstatt")
    )
    shown = ready_project.run("queue", "show", str(item), in_process=False).stdout
    rows = {line.split("│")[1].strip(): line for line in shown.splitlines() if "│" in line}
    # The event's local start and end, not UTC's 17:00 and 19:00.
    assert "04.03.2027, 18:00" in rows["event_start"]
    assert "04.03.2027, 20:00" in rows["event_end"]


def test_show_prints_one_item(ready_project: Project) -> None:
    shown = json.loads(
        ready_project.run("queue", "show", _id_of(ready_project, EDITORIAL), "--json").stdout
    )
    assert shown["title"] == EDITORIAL and shown["state"] == "queued"
    assert shown["key"] == "folder:2022-03-01-editorial.md"
    assert ready_project.run("queue", "show", "9999", check=False).returncode == 1


def test_with_require_approval_only_approved_items_go_out(ready_project: Project) -> None:
    ready_project.edit_config(lambda raw: raw["issue"].update(require_approval=True))
    ready_project.run("queue", "approve", _id_of(ready_project, EDITORIAL))

    ready_project.run("send")

    held = states(ready_project)
    assert held[EDITORIAL] == "sent"
    assert [title for title, state in held.items() if state == "sent"] == [EDITORIAL]


def test_add_writes_a_valid_file_and_queues_it(ready_project: Project) -> None:
    result = ready_project.run(
        "queue",
        "add",
        "--title",
        "Straßenfest im Quartier",
        "--summary",
        "Alle Nachbarinnen und Nachbarn sind eingeladen.",
        "--kind",
        "news",
        "--date",
        "2026-11-20",
        "--topic",
        "netzwerk",
    )

    path = ready_project.content_dir / "2026-11-20-strassenfest-im-quartier.md"
    assert path.is_file() and str(path) in result.stdout
    assert "title: Straßenfest im Quartier" in path.read_text("utf-8")
    assert states(ready_project)["Straßenfest im Quartier"] == "queued"

    refused = ready_project.run(
        "queue", "add", "--title", "Ohne Ort", "--summary", "x", "--kind", "event", check=False
    )
    assert refused.returncode == 1 and "event" in refused.stderr
    assert not list(ready_project.content_dir.glob("*ohne-ort*"))


def test_add_takes_every_field_the_front_matter_takes(ready_project: Project) -> None:
    body = ready_project.root / "text.md"
    body.write_text("Mit **Musik** und Kuchen.\n", encoding="utf-8")
    ready_project.run(
        "queue",
        "add",
        "--title",
        "Hoffest in Herne",
        "--summary",
        "Ein Nachmittag im Hof.",
        "--kind",
        "event",
        "--date",
        "2026-11-20",
        "--event-start",
        "2027-06-05T15:00",
        "--event-end",
        "2027-06-05T19:00",
        "--location",
        "Hof der Genossenschaft, Herne",
        "--image",
        "media/quartierswerk-herne.jpg",
        "--image-alt",
        "Ein Ladenlokal mit großen Schaufenstern",
        "--body",
        str(body),
        "--publish-after",
        "2026-12-01",
        "--expires",
        "2027-06-05",
    )
    text = (ready_project.content_dir / "2026-11-20-hoffest-in-herne.md").read_text("utf-8")
    for line in (
        "image: media/quartierswerk-herne.jpg",
        "image_alt: Ein Ladenlokal mit großen Schaufenstern",
        "publish_after: 2026-12-01",
        "expires: 2027-06-05",
        "  end: 2027-06-05 19:00:00",
    ):
        assert line in text.splitlines(), (line, text)
    assert text.endswith("---\nMit **Musik** und Kuchen.\n")
    key = "folder:2026-11-20-hoffest-in-herne.md"
    shown = json.loads(ready_project.run("queue", "show", key, "--json").stdout)
    assert shown["image"].endswith("/media/quartierswerk-herne.jpg")
    assert "<strong>Musik</strong>" in shown["body_html"]


def test_check_reports_bad_files_without_touching_the_store(project: Project) -> None:
    (project.content_dir / "kaputt.md").write_text(
        "---\ntitle: Kaputt\nkind: nachricht\ndate: 2026-11-01\nsummary: x\n---\n", "utf-8"
    )

    result = project.run("queue", "check", check=False)

    assert result.returncode == 1
    assert f"{project.content_dir / 'kaputt.md'}:3: kind:" in result.stderr
    assert "6 valid item file(s), 1 with errors" in result.stdout
    assert not (project.root / "newsletter.db").exists()
    (project.content_dir / "kaputt.md").unlink()
    assert project.run("queue", "check").returncode == 0


def test_status_shows_feed_health_and_the_queue(feeds: FeedProject) -> None:
    feeds.server.routes["/good.xml"] = Route.feed("rss20.xml")
    feeds.server.routes["/boom.xml"] = Route(status=500)
    feeds.configure({"Gut": "/good.xml", "Kaputt": "/boom.xml", "Neu": "/new.xml"})
    feeds.collect()
    feeds.project.edit_config(
        lambda raw: raw["sources"]["feeds"].append(
            {"name": "Später", "url": feeds.server.url("/later.xml"), "kind": "news"}
        )
    )

    status = json.loads(feeds.project.run("status", "--json").stdout)

    sources = {row["name"]: row for row in status["sources"]}
    assert sources["Gut"]["state"] == "ok" and sources["Gut"]["items_found"] == 1
    assert sources["Kaputt"]["state"] == "failing"
    assert sources["Kaputt"]["consecutive_failures"] == 1
    assert "HTTP 500" in sources["Kaputt"]["last_error"]
    assert sources["Später"]["state"] == "never collected"
    assert status["queue"]["queued"] == 1 and status["queue"]["sent"] == 0
    table = feeds.project.run("status").stdout
    assert "Kaputt" in table and "failing" in table and "queued" in table
