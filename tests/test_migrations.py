"""A store made by an earlier release upgrades to today's schema and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from pipeline import db
from subscribers import store, suppression
from subscribers.schema import subscribers
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


def test_the_schema_check_knows_the_head_alembic_migrates_to() -> None:
    """The check reads the head from the migration files without Alembic: the same one."""
    assert db.head_revision() == ScriptDirectory(str(MIGRATIONS.parent)).get_current_head()


def test_the_schema_check_reads_the_revision_alembic_stamped(database_url: str) -> None:
    engine = db.make_engine(database_url)
    assert db.current_revision(engine) is None
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS.parent))
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")
    assert db.current_revision(engine) == "0012"
    with pytest.raises(db.SchemaOutOfDate, match=r"is at revision 0012.*newsletter db upgrade"):
        db.require_current_schema(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    db.require_current_schema(engine)
    engine.dispose()


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


KAI = "kai.mueller@bücherei-quartier.de"
ERASED = "erased.person@straße-beispiel.de"


def test_stored_addresses_keep_matching_after_their_respelling(old_store: Project) -> None:
    """0012 respells the IDN domain as its A-label; the erased person's hash stays old."""
    old_store.run("db", "upgrade")
    listed = old_store.run("subscribers", "list", "--json").stdout
    assert "kai.mueller@xn--bcherei-quartier-jzb.de" in listed and KAI not in listed
    # Kai is found by every spelling of his mailbox, and is one subscriber still.
    for spelling in (
        KAI,
        "kai.mueller@xn--bcherei-quartier-jzb.de",
        "Kai.Mueller@BÜCHEREI-quartier.de",
    ):
        added = old_store.run("subscribers", "add", spelling, "--consent-given-by", "t")
        assert "already in the store" in added.stdout, spelling
    engine = old_store.engine()
    with engine.connect() as connection:
        kai = store.find(connection, KAI)
        assert kai is not None
        row = connection.execute(sa.select(subscribers).where(subscribers.c.id == kai.id)).one()
        # The audience compares this hash with the suppression list's: it is the new one.
        assert row.email_hash == suppression.email_hash(connection, kai.email)
        assert kai.id in set(connection.execute(store.active_ids()).scalars())
    engine.dispose()
    # The erased person's address is gone, so their hash could not be made anew: it blocks.
    for spelling in (ERASED, "Erased.Person@XN--STRAE-BEISPIEL-3FB.DE"):
        sheet = old_store.root / "again.csv"
        sheet.write_text(f"email,name\n{spelling},Wieder da\n", encoding="utf-8")
        refused = old_store.run(
            "subscribers", "import", str(sheet), "--apply", "--consent-given-by", "t", check=False
        )
        assert refused.returncode == 1, refused.stdout
        assert "row 2, column email: is on the suppression list (erased)" in refused.stderr
    # A different domain (IDNA 2003 would have made it the same) is not blocked.
    sheet.write_text("email\nerased.person@strasse-beispiel.de\n", encoding="utf-8")
    old_store.run("subscribers", "import", str(sheet), "--apply", "--consent-given-by", "t")
    added = old_store.run("subscribers", "add", ERASED, "--consent-given-by", "t", check=False)
    assert added.returncode != 0 and "suppression list (erased)" in added.stderr


def test_the_respelling_is_undone_by_a_downgrade(old_store: Project) -> None:
    old_store.run("db", "upgrade")
    engine = old_store.engine()
    config = db._alembic_config(old_store.config().database.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    with engine.connect() as connection:
        email, digest = connection.execute(
            sa.select(subscribers.c.email, subscribers.c.email_hash).where(subscribers.c.id == 5)
        ).one()
    engine.dispose()
    assert (email, digest) == (
        KAI,
        "3f181f56eb6a9ac8703858cc692de1438f3c501035d78dbdb07cee0ff72a448a",
    )


def _migrate(engine: sa.Engine, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS.parent))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_a_sign_up_waiting_at_0019_came_from_the_form(database_url: str) -> None:
    """0020 keeps where a sign-up came from; one waiting before it is the form's."""
    engine = db.make_engine(database_url)
    _migrate(engine, "0019")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO subscribers (email, name, locale, topics, state, created_at,"
                " updated_at) VALUES ('w@example.org', '', 'de', '[]', 'pending',"
                " '2026-12-01 10:00:00+00', '2026-12-01 10:00:00+00')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO sign_ups (subscriber_id, nonce, name, locale, topics, requested_at)"
                " SELECT id, 'n', '', 'de', '[]', '2026-12-01 10:00:00+00' FROM subscribers"
            )
        )
    _migrate(engine, "0020")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT source FROM sign_ups")).scalar_one() == "form"
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE subscribers SET consent_source = 'api:{'x' * 100}'"))
    _migrate(engine, "0019", down=True)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("sign_ups")}
        kept = connection.execute(sa.text("SELECT consent_source FROM subscribers")).scalar_one()
    assert "source" not in columns
    assert kept == ("api" if engine.dialect.name == "postgresql" else f"api:{'x' * 100}")
    engine.dispose()
