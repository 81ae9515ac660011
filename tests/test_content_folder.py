"""The content folder: valid items are queued, a bad file is named and loses nothing else."""

from __future__ import annotations

import textwrap
from pathlib import Path

import sqlalchemy as sa

from pipeline.collect.folder import read_folder
from pipeline.db import items
from tests.conftest import Project

SAMPLE_TITLES = {
    "Jahresauftakt 2022 – über 60 Partner diskutieren das Quintessenzpapier",
    "Das Netzwerk geht ans Machen",
    "Neuer Partner: Quartierswerk Herne eG",
    "Neuer Partner: Kulturbüro Bernburg (Saale)",
    "Quartierswerkstatt Wuppertal: Leerstand gemeinsam beleben",
    "Online-Forum: Kooperationsverträge zwischen Kommunen und Kreativen",
}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def _titles(project: Project) -> dict[str, str]:
    with project.engine().connect() as connection:
        return dict(connection.execute(sa.select(items.c.title, items.c.state)).all())


def test_sample_content_is_all_queued(ready_project: Project) -> None:
    assert _titles(ready_project) == dict.fromkeys(SAMPLE_TITLES, "queued")


def test_event_times_keep_their_local_time(project: Project) -> None:
    result = read_folder(
        project.content_dir,
        timezone="Europe/Berlin",
        topic_keys=["veranstaltungen", "netzwerk", "partner"],
    )
    event = next(item for item in result.items if "Wuppertal" in item.title).event
    assert event is not None
    assert event.start.isoformat() == "2027-03-04T18:00:00+01:00"


def test_bad_field_is_named_with_file_and_line_and_others_still_collected(project: Project) -> None:
    _write(
        project.content_dir,
        "kaputt.md",
        """
        ---
        title: Ein Termin ohne Ort
        kind: event
        date: 2026-11-01
        summary: Hier fehlt die Uhrzeit.
        event:
          start: nicht-heute
          location: Berlin
        ---
        """,
    )
    project.run("db", "upgrade")
    result = project.run("collect", check=False)
    assert result.returncode == 1
    assert f"{project.content_dir / 'kaputt.md'}:7: event.start:" in result.stderr
    assert set(_titles(project)) == SAMPLE_TITLES


def test_missing_field_unknown_field_and_bad_yaml_are_each_reported(project: Project) -> None:
    _write(
        project.content_dir, "ohne-titel.md", "---\nkind: news\ndate: 2026-11-01\nsummary: x\n---\n"
    )
    _write(
        project.content_dir,
        "tippfehler.md",
        "---\ntitle: T\nkind: news\ndate: 2026-11-01\nsummary: x\nsumary: y\n---\n",
    )
    _write(project.content_dir, "yaml.md", "---\ntitle: [offen\nkind: news\n---\n")
    _write(project.content_dir, "kein-front-matter.md", "Nur Text.\n")
    project.run("db", "upgrade")
    stderr = project.run("collect", check=False).stderr
    assert "ohne-titel.md: title: required but missing" in stderr
    assert "tippfehler.md:6: unknown field sumary, did you mean summary?" in stderr
    assert "yaml.md:" in stderr and "not valid YAML" in stderr
    assert "kein-front-matter.md:1: no front matter" in stderr
    assert set(_titles(project)) == SAMPLE_TITLES


def test_queue_check_names_every_problem_of_a_file_with_its_cure(project: Project) -> None:
    _write(
        project.content_dir,
        "drei-fehler.md",
        """
        ---
        title: "Drei Fehler"
        kind: reprot
        date: 2026-12-01
        sumary: Tippfehler
        event:
          strat: 2026-12-10 18:00
        ---
        """,
    )
    (project.content_dir / "doppelpunkt.md").write_text(
        "\n---\ntitle: Auftakt: Quartier Nord\nkind: report\ndate: 2026-12-01\nsummary: x\n---\n",
        encoding="utf-8",
    )
    _write(
        project.content_dir,
        "datum.md",
        "---\ntitle: Datum\nkind: news\ndate: 2026-13-01\nsummary: x\n---\n",
    )
    result = project.run("queue", "check", check=False, in_process=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    broken = str(project.content_dir / "drei-fehler.md")
    assert (
        f"error: {broken}:3: kind: Input should be 'intro', 'report', 'partner', 'event' or "
        "'news'; did you mean report?" in lines
    )
    assert f"error: {broken}: summary: required but missing" in lines
    assert f"error: {broken}:5: unknown field sumary, did you mean summary?" in lines
    assert f"error: {broken}:7: unknown field event.strat, did you mean event.start?" in lines
    # The YAML error at the file's own line (a blank line comes before its `---`), and the cure.
    assert (
        f"error: {project.content_dir / 'doppelpunkt.md'}:3: the front matter is not valid YAML: "
        "mapping values are not allowed in this context; a value with a colon in it needs "
        'quotes: title: "Auftakt: Quartier Nord"'
    ) in lines
    # A date that is no day of the calendar is a problem of its line, not a traceback.
    assert (
        f"error: {project.content_dir / 'datum.md'}:4: the front matter is not valid YAML: "
        "'2026-13-01' is not a valid date (month must be in 1..12)"
    ) in lines
    assert "Traceback" not in result.stderr
    assert result.stdout.strip().endswith("6 valid item file(s), 3 with errors.")


def test_a_date_no_calendar_has_stops_neither_collect_nor_the_other_files(project: Project) -> None:
    _write(
        project.content_dir,
        "datum.md",
        "---\ntitle: Datum\nkind: news\ndate: 2026-02-30\nsummary: x\n---\n",
    )
    project.run("db", "upgrade")
    result = project.run("collect", check=False)
    assert result.returncode == 1
    assert (
        f"{project.content_dir / 'datum.md'}:4: the front matter is not valid YAML" in result.stderr
    )
    assert set(_titles(project)) == SAMPLE_TITLES


def test_image_without_alt_text_is_refused(project: Project) -> None:
    _write(
        project.content_dir,
        "bild.md",
        """
        ---
        title: Mit Bild
        kind: news
        date: 2026-11-01
        summary: Ein Bild ohne Beschreibung.
        image: https://example.org/a.jpg
        ---
        """,
    )
    result = read_folder(
        project.content_dir,
        timezone="Europe/Berlin",
        topic_keys=["netzwerk", "partner", "veranstaltungen"],
    )
    reason = "image_alt: an image needs a text alternative (image_alt)"
    assert [str(e) for e in result.errors] == [f"{project.content_dir / 'bild.md'}: {reason}"]


def test_markup_in_title_is_kept_as_text_and_body_is_sanitised(project: Project) -> None:
    _write(
        project.content_dir,
        "frech.md",
        """
        ---
        title: "<b>Fett</b> & <script>alert(1)</script>"
        kind: news
        date: 2026-11-01
        summary: "<img src=x onerror=alert(1)>"
        ---
        Text mit <script>alert(2)</script> und [Link](javascript:alert(3)).
        """,
    )
    result = read_folder(project.content_dir, timezone="Europe/Berlin", topic_keys=[])
    item = next(i for i in result.items if i.key == "folder:frech.md")
    assert item.title == "<b>Fett</b> & <script>alert(1)</script>"
    assert "<script" not in item.body_html
    assert 'href="javascript' not in item.body_html


def test_edited_file_updates_and_deleted_file_drops_its_item(ready_project: Project) -> None:
    path = ready_project.content_dir / "2022-03-01-editorial.md"
    path.write_text(
        path.read_text("utf-8").replace("Das Netzwerk geht ans Machen", "Neuer Titel"), "utf-8"
    )
    (ready_project.content_dir / "2022-03-02-partner-wohnen-herne.md").unlink()
    ready_project.run("collect")
    titles = _titles(ready_project)
    assert titles["Neuer Titel"] == "queued"
    assert titles["Neuer Partner: Quartierswerk Herne eG"] == "dropped"
    assert "Das Netzwerk geht ans Machen" not in titles


def test_sent_items_stay_sent_when_their_file_changes(ready_project: Project) -> None:
    ready_project.run("send")
    path = ready_project.content_dir / "2022-03-01-editorial.md"
    path.write_text(
        path.read_text("utf-8").replace("Das Netzwerk geht ans Machen", "Später geändert"), "utf-8"
    )
    ready_project.run("collect")
    titles = _titles(ready_project)
    assert titles["Das Netzwerk geht ans Machen"] == "sent"
    assert "Später geändert" not in titles


def test_draft_is_not_queued(project: Project) -> None:
    _write(
        project.content_dir,
        "entwurf.md",
        "---\ntitle: Entwurf\nkind: news\ndate: 2026-11-01\nsummary: x\nstatus: draft\n---\n",
    )
    project.run("db", "upgrade")
    project.run("collect")
    assert _titles(project)["Entwurf"] == "draft"


def test_a_picture_of_the_folder_must_be_there_and_named_as_files_are(project: Project) -> None:
    _write(
        project.content_dir,
        "fehlt.md",
        "---\ntitle: T\nkind: news\ndate: 2026-11-01\nsummary: x\n"
        "image: media/fehlt.jpg\nimage_alt: Ein Bild\n---\n",
    )
    _write(
        project.content_dir,
        "pfad.md",
        "---\ntitle: T\nkind: news\ndate: 2026-11-01\nsummary: x\n"
        "image: media/../config.yaml\nimage_alt: Ein Bild\n---\n",
    )
    result = project.run("queue", "check", check=False)
    assert result.returncode == 1
    media = project.content_dir / "media"
    assert (
        f"{project.content_dir / 'fehlt.md'}:6: image: media/fehlt.jpg is not in the content "
        f"folder ({media})"
    ) in result.stderr
    assert f"{project.content_dir / 'pfad.md'}:6: image: a picture in media/ is named like" in (
        result.stderr
    )
