"""`newsletter subscribers import` at scale: rows checked in chunks, one transaction, the
count of refused rows, the progress bar in a terminal only, and what the store keeps."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from subscribers import import_csv, store, suppression
from subscribers.addresses import legacy_spelling, normalise_address
from subscribers.import_rows import count_lines, read_chunks
from subscribers.schema import subscriber_events, subscribers, suppressions
from tests.conftest import NEWSLETTER, Project, command_environment

TOPICS = ["netzwerk", "veranstaltungen", "partner"]


def _on(project: Project, database_url: str) -> Project:
    project.edit_config(lambda raw: raw["database"].update(url=database_url))  # type: ignore[attr-defined]
    project.run("db", "upgrade")
    return project


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _sheet(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,topics\n")
        for number in range(rows):
            handle.write(f"leser.{number}@bücherei-quartier.de,Leser {number},netzwerk\n")
    return path


def test_six_rows_with_several_problems_each_are_counted_once(project: Project) -> None:
    """Issue 18: an import of 6 rows reported "10 row(s) refused" (one per problem)."""
    project.run("db", "upgrade")
    (project.root / "six.csv").write_text(
        "email,name,locale,topics,consent_at\n"
        "gut@example.org,Gut,de,netzwerk,2025-03-01\n"
        "kaputt,Kaputt,fr,kochen,gestern\n"
        "auch-kaputt@,Auch,xx,,\n"
        "ohne@example.org,Ohne,de,backen,\n"
        "zweimal@example.org,Zweimal,it,,2025-03-01\n"
        "GUT@example.org,Doppelt,de,,2025-03-01\n",
        encoding="utf-8",
    )
    refused = project.run("subscribers", "import", "six.csv", "--apply", check=False)
    assert refused.returncode == 1
    summary = " ".join(refused.stdout.split())
    assert "Imported 1 new subscriber(s)" in summary
    assert "0 already known, 5 row(s) refused." in summary
    lines = refused.stderr.splitlines()
    # Every problem of every refused row, each with the file and its line number.
    assert [re.sub(r": .*", "", line.split("six.csv: ")[1]) for line in lines] == [
        "row 3, column email",
        "row 3, column locale",
        "row 3, column topics",
        "row 3, column consent_at",
        "row 4, column email",
        "row 4, column locale",
        "row 4, column consent_at",
        "row 5, column topics",
        "row 5, column consent_at",
        "row 6, column locale",
        "row 7, column email",
    ]
    assert "row 7, column email: repeats an earlier row" in refused.stderr


def test_an_import_keeps_the_consent_and_history_of_each_row(
    engine: sa.Engine, tmp_path: Path
) -> None:
    sheet = tmp_path / "partner.csv"
    sheet.write_text(
        "email,name,locale,topics,consent_at\n"
        "Kai@Bücherei-Quartier.de,Kai,en,netzwerk;partner,2025-03-01T10:00:00+01:00\n"
        "anna@example.org,  Anna  ,,,\n",
        encoding="utf-8",
    )
    before = datetime.now(UTC)
    report = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by="Vorstand", apply=True)
    assert [(row.row, row.email) for row in report.added] == [
        (2, "kai@xn--bcherei-quartier-jzb.de"),
        (3, "anna@example.org"),
    ]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(subscribers).order_by(subscribers.c.id)).all()
        kai, anna = (row._mapping for row in rows)
        assert (kai["name"], kai["locale"], kai["topics"], kai["state"]) == (
            "Kai",
            "en",
            ["netzwerk", "partner"],
            "active",
        )
        assert kai["consent_at"] == datetime(2025, 3, 1, 9, tzinfo=UTC)
        assert kai["consent_detail"] == "consent_at column of the imported file"
        assert kai["email_hash"] == suppression.email_hash(connection, kai["email"])
        assert (anna["name"], anna["locale"], anna["topics"]) == ("Anna", "de", [])
        assert anna["consent_source"] == "import" and anna["consent_at"] >= before
        assert anna["consent_detail"] == "vouched for by Vorstand"
        assert store.history(connection, kai["id"])[0]["cause"] == (
            "added (import: consent_at column of the imported file)"
        )
        assert [entry["state"] for entry in store.history(connection, anna["id"])] == ["active"]
        assert store.history(connection, anna["id"])[0]["cause"] == (
            "added (import: vouched for by Vorstand)"
        )
        audience = set(connection.execute(store.active_ids()).scalars())
    assert audience == {kai["id"], anna["id"]}


def test_a_hash_made_by_an_earlier_release_still_blocks_an_import(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """An erased person's entry made before 0012 is of the old spelling (the U-label)."""
    with engine.begin() as connection:
        key = suppression.salt(connection)
        for spelling, reason, at in (
            (legacy_spelling(normalise_address("alt@straße-beispiel.de")), "erased", 1),
            (normalise_address("neu@straße-beispiel.de"), "hard_bounce", 2),
            # Listed under both hashes: the entry listed first gives the reason.
            (normalise_address("beide@straße-beispiel.de"), "complaint", 4),
            (legacy_spelling(normalise_address("beide@straße-beispiel.de")), "admin", 3),
        ):
            connection.execute(
                sa.insert(suppressions).values(
                    email_hash=suppression.digest(key, spelling),
                    reason=reason,
                    at=datetime(2026, 1, at, tzinfo=UTC),
                )
            )
    sheet = tmp_path / "wieder.csv"
    sheet.write_text(
        "email\nALT@Straße-Beispiel.de\nneu@xn--strae-beispiel-3fb.de\n"
        "beide@straße-beispiel.de\nalt@strasse-beispiel.de\n",
        encoding="utf-8",
    )
    report = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by="tests", apply=True)
    assert [str(problem) for problem in report.problems] == [
        "row 2, column email: is on the suppression list (erased)",
        "row 3, column email: is on the suppression list (hard_bounce)",
        "row 4, column email: is on the suppression list (admin)",
    ]
    assert [row.email for row in report.added] == ["alt@strasse-beispiel.de"]


def test_repeats_and_known_addresses_are_found_across_chunks(
    engine: sa.Engine, tmp_path: Path
) -> None:
    sheet = tmp_path / "lang.csv"
    sheet.write_text(
        "email\na@example.org\nb@example.org\n\nc@example.org\nA@example.org\nd@example.org\n"
        "B@EXAMPLE.ORG\n",
        encoding="utf-8",
    )
    chunks = list(read_chunks(sheet, topic_keys=[], consent_given_by="tests", size=2))
    assert [[row.row for row in chunk.rows] for chunk in chunks] == [[2, 3], [5], [7], []]
    assert [[problem.row for problem in chunk.problems] for chunk in chunks] == [[], [6], [8], []]
    assert [chunk.last_line for chunk in chunks] == [3, 6, 8, 8]
    assert count_lines(sheet) == 8
    with engine.begin() as connection:
        store.add(connection, email="d@example.org", consent=None)
    report = import_csv(engine, sheet, topic_keys=[], consent_given_by="tests", apply=True)
    assert [row.email for row in report.known] == ["d@example.org"]
    assert [row.row for row in report.added] == [2, 3, 5]
    assert report.refused == 2


def _run_in_terminal(
    project: Project, *args: str, kill_when: re.Pattern[str] | None = None
) -> tuple[int, str]:
    """The real command with stdin, stdout and stderr on a pseudo-terminal, as typed in a
    shell; with `kill_when`, killed (SIGKILL) as soon as its output matches."""
    leader, follower = pty.openpty()
    environment = command_environment() | {"TERM": "xterm-256color", "COLUMNS": "100"}
    process = subprocess.Popen(
        [NEWSLETTER, *args, "--config", str(project.config_path)],
        cwd=project.root,
        env=environment,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    killed = False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        assert ready, f"no output for 60 s: {seen[-500:]!r}"
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command exited
            break
        if not data:
            break
        seen += data
        if kill_when is not None and not killed and kill_when.search(seen.decode(errors="replace")):
            process.send_signal(signal.SIGKILL)
            killed = True
    os.close(leader)
    return process.wait(timeout=60), seen.decode(errors="replace")


def test_an_import_killed_half_way_leaves_nothing_and_the_rerun_imports_all(
    project: Project, database_url: str
) -> None:
    _on(project, database_url)
    _sheet(project.root / "gross.csv", 12_000)
    # The bar counts the sheet's lines; each chunk's rows are written before it moves on.
    half_way = re.compile(r"\b([1-9]\d{3,4})/12001\b")
    code, shown = _run_in_terminal(
        project,
        "subscribers",
        "import",
        "gross.csv",
        "--apply",
        "--consent-given-by",
        "tests",
        kill_when=half_way,
    )
    assert code == -signal.SIGKILL, shown
    assert "importing gross.csv" in shown
    engine = project.engine()
    assert (_count(engine, subscribers), _count(engine, subscriber_events)) == (0, 0)
    again = project.run(
        "subscribers",
        "import",
        "gross.csv",
        "--apply",
        "--consent-given-by",
        "tests",
        in_process=False,
    )
    assert "Imported 12000 new subscriber(s)" in " ".join(again.stdout.split())
    assert "━" not in again.stderr and again.stderr == ""  # no bar when not a terminal
    assert (_count(engine, subscribers), _count(engine, subscriber_events)) == (12_000, 12_000)
    engine.dispose()


def test_json_log_format_gives_objects_and_no_bar_even_in_a_terminal(project: Project) -> None:
    project.run("db", "upgrade")
    (project.root / "zwei.csv").write_text(
        "email,locale\nneu@example.org,de\nkaputt,de\n", encoding="utf-8"
    )
    code, shown = _run_in_terminal(
        project,
        "subscribers",
        "import",
        "zwei.csv",
        "--apply",
        "--consent-given-by",
        "tests",
        "--log-format",
        "json",
    )
    assert code == 1
    lines = [json.loads(line) for line in shown.splitlines() if line.strip()]
    refused, summary = lines
    assert (refused["level"], refused["row"], refused["column"]) == ("warning", 2 + 1, "email")
    assert refused["file"] == "zwei.csv" and "row refused" in refused["message"]
    assert summary == {"file": "zwei.csv", "applied": True, "added": 1, "known": 0, "refused": 1}


def test_a_name_with_a_nul_or_line_breaks_is_kept_on_one_clean_line(
    engine: sa.Engine, tmp_path: Path
) -> None:
    """PostgreSQL stores no NUL, and a name becomes the To: header of every mail."""
    sheet = tmp_path / "partner.csv"
    sheet.write_bytes(
        b'email,name\nkai@example.org,"Kai\x00 M\xc3\xbcller\r\nBcc: alle@example.org"\n'
        b"anna@example.org,Anna\n"
    )
    report = import_csv(engine, sheet, topic_keys=TOPICS, consent_given_by="Vorstand", apply=True)
    assert [row.email for row in report.added] == ["kai@example.org", "anna@example.org"]
    with engine.connect() as connection:
        names = connection.execute(sa.select(subscribers.c.name).order_by(subscribers.c.id))
        assert list(names.scalars()) == ["Kai Müller Bcc: alle@example.org", "Anna"]
