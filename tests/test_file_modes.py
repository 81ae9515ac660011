"""Readers' data on disk is the service user's alone: the database with its -wal and
-shm, the outbox's messages, subscriber exports and previews are created 0600 by the real
CLI, under an inherited umask of 022 too; `NEWSLETTER_UMASK` lets a group in, never others.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY, Project, serve_command

ALONE = {"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY}
GROUP_READS = ALONE | {"NEWSLETTER_UMASK": "027"}


@pytest.fixture(autouse=True)
def inherited_umask() -> Iterator[None]:
    """A service manager's usual umask, 022; the commands run in this process set theirs."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_of(project: Project) -> dict[str, int]:
    database = project.root / "newsletter.db"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE IF NOT EXISTS probe (x)")
    connection.execute("INSERT INTO probe VALUES (1)")
    connection.commit()
    try:  # while a writer holds it, as during a send or under `serve`
        found = {
            "db": mode(database),
            "wal": mode(Path(f"{database}-wal")),
            "shm": mode(Path(f"{database}-shm")),
        }
    finally:
        connection.close()
    for message in project.outbox.glob("*.eml"):
        found[message.name] = mode(message)
    found["outbox/"] = mode(project.outbox) & 0o666
    return found


def test_database_and_outbox_are_the_service_users_alone(ready_project: Project) -> None:
    ready_project.run("send")
    found = modes_of(ready_project)
    assert len(found) > 5, found
    assert {name: value for name, value in found.items() if value & 0o077} == {}
    assert found["db"] == 0o600


def test_exports_are_the_service_users_alone_even_over_an_old_file(
    ready_project: Project,
) -> None:
    old = ready_project.root / "old-export.csv"
    old.write_text("stale")
    old.chmod(0o644)
    gdpr = ready_project.root / "person.json"
    ready_project.run("subscribers", "export", "--out", str(old))
    ready_project.run("subscribers", "export", "--email", "anna.schmidt@example.org",
                      "--out", str(gdpr))  # fmt: skip
    assert mode(old) == 0o600 and "@" in old.read_text("utf-8")
    assert mode(gdpr) == 0o600 and "anna.schmidt@example.org" in gdpr.read_text("utf-8")


def test_preview_files_are_private(ready_project: Project) -> None:
    ready_project.run("preview", "--out", "out")
    written = list((ready_project.root / "out").iterdir())
    assert written and all(mode(path) & 0o077 == 0 for path in written)


def test_a_group_umask_gives_the_group_read_access(project: Project) -> None:
    project.run("db", "upgrade", secrets=GROUP_READS)
    project.run("subscribers", "import", "subscribers.csv", "--apply",
                "--consent-given-by", "tests", secrets=GROUP_READS)  # fmt: skip
    project.run("collect", secrets=GROUP_READS)
    project.run("send", secrets=GROUP_READS)
    found = modes_of(project)
    assert set(found.values()) == {0o640}, found


@pytest.mark.parametrize("value", ["022", "002", "0", "abc", "1777"])
def test_a_umask_that_lets_others_in_is_refused(project: Project, value: str) -> None:
    result = project.run("db", "upgrade", check=False,
                         secrets={"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY,
                                  "NEWSLETTER_UMASK": value})  # fmt: skip
    assert result.returncode == 2 and "NEWSLETTER_UMASK" in result.stderr
    assert not (project.root / "newsletter.db").exists()


def test_db_upgrade_takes_others_access_from_an_old_store(project: Project) -> None:
    database = project.root / "newsletter.db"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    result = project.run("db", "upgrade")
    assert mode(database) == 0o600
    assert "mode 644" in result.stdout


# Every command as its own process, as the service runs them (SQLite removes -wal and
# -shm as each one exits), then a real `newsletter serve` holds the database open.
@pytest.mark.parametrize(("secrets", "expected"), [(ALONE, 0o600), (GROUP_READS, 0o640)])
def test_the_wal_files_of_a_running_serve_are_as_private_as_the_database(
    project: Project, secrets: dict[str, str], expected: int
) -> None:
    def run(*args: str) -> None:
        project.run(*args, in_process=False, secrets=secrets)

    run("db", "upgrade")
    run("subscribers", "import", "subscribers.csv", "--apply", "--consent-given-by", "tests")
    run("collect")
    run("send")
    database = project.root / "newsletter.db"
    wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
    assert not wal.exists() and not shm.exists()  # the last connection took them away
    with serve_command(project, secrets=secrets):
        assert {path.name: mode(path) for path in (database, wal, shm)} == {
            path.name: expected for path in (database, wal, shm)
        }
    messages = list(project.outbox.glob("*.eml"))
    assert messages and {mode(message) for message in messages} == {expected}
