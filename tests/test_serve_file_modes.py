"""The database's -wal and -shm as the running service makes them: every command runs as
its own process (so SQLite removes -wal and -shm as each one exits), then a real
`newsletter serve` opens the database and they are stat'ed while it holds them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY, Project, serve_command

ALONE = {"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY}
GROUP_READS = ALONE | {"NEWSLETTER_UMASK": "027"}


@pytest.fixture(autouse=True)
def inherited_umask() -> Iterator[None]:
    """A service manager's usual umask, 022, inherited by every command started here."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


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
