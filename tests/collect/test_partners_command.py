"""`newsletter partners add/list/revoke` and `queue list` showing a submission, as an
operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pipeline.partners import partner_of_link
from pipeline.queue.submissions import store_submission, submission_key
from pipeline.tokens import InvalidToken
from tests.collect.helpers import news_item
from tests.conftest import TEST_SECRET_KEY, Project


def _link(output: str) -> str:
    return next(line for line in output.splitlines() if "/submit/" in line).strip()


def _token_works(project: Project, link: str) -> bool:
    with project.engine().connect() as connection:
        try:
            partner_of_link(connection, (TEST_SECRET_KEY,), link.rsplit("/", 1)[1])
        except InvalidToken:
            return False
    return True


def test_a_partners_link_works_until_revoked_and_a_new_one_replaces_it(
    ready_project: Project,
) -> None:
    added = ready_project.run("partners", "add", "Stadtteilbüro Nord", "buero@nord.example.org")
    link = _link(added.stdout)
    base = ready_project.config().site.base_url
    assert link.startswith(f"{str(base).rstrip('/')}/submit/")
    assert _token_works(ready_project, link)
    assert not _token_works(ready_project, link[:-2] + ("AA" if link[-2:] != "AA" else "BB"))

    again = ready_project.run(
        "partners", "add", "Stadtteilbüro Nord", "x@nord.example.org", check=False
    )
    assert again.returncode == 1 and "is a partner already" in again.stderr

    listed = json.loads(ready_project.run("partners", "list", "--json").stdout)
    assert [(p["name"], p["email"], p["revoked_at"]) for p in listed] == [
        ("Stadtteilbüro Nord", "buero@nord.example.org", None)
    ]
    revoked = ready_project.run("partners", "revoke", "Stadtteilbüro Nord")
    assert "no longer works" in revoked.stdout
    assert not _token_works(ready_project, link)
    assert "revoked" in ready_project.run("partners", "list").stdout

    renewed = _link(
        ready_project.run("partners", "add", "Stadtteilbüro Nord", "buero@nord.example.org").stdout
    )
    assert _token_works(ready_project, renewed) and not _token_works(ready_project, link)


@pytest.mark.parametrize("address", ["kein-at-zeichen", "a@b@c.example.org", ""])
def test_a_partner_with_a_bad_address_is_refused_naming_the_field(
    ready_project: Project, address: str
) -> None:
    result = ready_project.run("partners", "add", "Verein Süd", address, check=False)
    assert result.returncode == 1 and "EMAIL" in result.stderr
    assert json.loads(ready_project.run("partners", "list", "--json").stdout) == []


def test_queue_list_shows_a_submission_and_approve_moves_it_on(ready_project: Project) -> None:
    at = datetime.now(UTC)
    item = news_item(
        submission_key(None, "f1"),
        "Öffentliches Formular",
        "Neuer Treffpunkt im Westen eröffnet",
        None,
        at,
    )
    stored = store_submission(ready_project.engine(), item, None, at)
    listed = json.loads(ready_project.run("queue", "list", "--json").stdout)
    assert {"id": stored.item_id, "state": "submitted"}.items() <= next(
        entry for entry in listed if entry["id"] == stored.item_id
    ).items()
    assert "submitted" in ready_project.run("queue", "list").stdout
    ready_project.run("queue", "approve", str(stored.item_id))
    with ready_project.engine().connect() as connection:
        state = connection.execute(
            sa.text("SELECT state FROM items WHERE id = :i"), {"i": stored.item_id}
        ).scalar()
    assert state == "approved"
