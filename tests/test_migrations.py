"""A store made by an earlier release upgrades to today's schema and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from pipeline import db
from tests.conftest import Project

OLD_STORE = Path(__file__).parent / "fixtures" / "store-at-0005a.sql"
MIGRATIONS = Path(db.__file__).parent / "migrations" / "versions"


@pytest.fixture
def old_store(ready_project: Project) -> Project:
    """The demo project, its database replaced by the store an earlier release left."""
    path = ready_project.root / "newsletter.db"
    path.unlink()
    with sqlite3.connect(path) as connection:
        connection.executescript(OLD_STORE.read_text(encoding="utf-8"))
    return ready_project


def test_the_migration_files_sort_in_the_order_they_apply() -> None:
    files = sorted(path.stem for path in MIGRATIONS.glob("[0-9]*.py"))
    revisions = [name.split("_")[0] for name in files]
    script = ScriptDirectory(str(MIGRATIONS.parent))
    applied = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    assert revisions == applied


def test_a_store_at_the_old_head_upgrades_and_keeps_its_data(old_store: Project) -> None:
    refused = old_store.run("status", check=False)
    assert refused.returncode != 0
    assert "revision 0005a" in refused.stderr and "newsletter db upgrade" in refused.stderr

    upgraded = old_store.run("db", "upgrade")
    assert f"to revision {db.head_revision()}" in upgraded.stdout

    status = old_store.run("status", "--json")
    assert '"number": 1' in status.stdout and '"sent": 4' in status.stdout
    listed = old_store.run("subscribers", "list", "--json").stdout
    assert "anna.schmidt@example.org" in listed
    again = old_store.run("db", "upgrade")
    assert "is up to date" in again.stdout
