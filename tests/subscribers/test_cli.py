"""`newsletter subscribers ...` as an operator types it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from subscribers import store
from tests.conftest import Project


def test_operator_adds_lists_removes_exports_and_erases(project: Project) -> None:
    project.run("db", "upgrade")
    added = project.run(
        "subscribers",
        "add",
        "Neu@Example.org",
        "--consent-given-by",
        "Vorstand",
        "--name",
        "=Neu",
        "--topic",
        "partner",
        "--locale",
        "en",
    )
    assert "Added neu@example.org" in added.stdout
    listed = json.loads(project.run("subscribers", "list", "--json").stdout)
    assert listed == [
        {
            "email": "neu@example.org",
            "name": "=Neu",
            "locale": "en",
            "topics": ["partner"],
            "state": "active",
        }
    ]
    sheet = project.run("subscribers", "export").stdout
    assert [row["name"] for row in csv.DictReader(io.StringIO(sheet))] == ["'=Neu"]
    person = json.loads(project.run("subscribers", "export", "--email", "neu@example.org").stdout)
    assert person["consent"]["detail"] == "vouched for by Vorstand"
    project.run("subscribers", "remove", "neu@example.org")
    assert json.loads(project.run("subscribers", "list", "--json").stdout)[0]["state"] == (
        "unsubscribed"
    )
    assert "Erased" in project.run("subscribers", "erase", "neu@example.org").stdout
    assert json.loads(project.run("subscribers", "list", "--json").stdout) == []
    (project.root / "again.csv").write_text("email\nneu@example.org\n", encoding="utf-8")
    refused = project.run(
        "subscribers", "import", "again.csv", "--apply", "--consent-given-by", "x", check=False
    )
    assert refused.returncode == 1
    assert "row 2, column email: is on the suppression list (erased)" in refused.stderr
    again = project.run(
        "subscribers", "add", "neu@example.org", "--consent-given-by", "x", check=False
    )
    assert again.returncode == 1 and "suppression list" in again.stderr


def test_serve_is_documented_in_help(project: Project) -> None:
    helped = project.run("serve", "--help")
    assert "--host" in helped.stdout and "--port" in helped.stdout


def test_show_names_the_personalised_statistics_consent(project: Project) -> None:
    project.run("db", "upgrade")
    project.run("subscribers", "add", "anna@example.org", "--consent-given-by", "Vorstand")
    shown = project.run("subscribers", "show", "anna@example.org").stdout
    assert "personalised statistics: not given" in shown
    assert (
        json.loads(project.run("subscribers", "show", "anna@example.org", "--json").stdout)[
            "stats_consent"
        ]
        is None
    )
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    engine = project.engine()
    with engine.begin() as connection:
        found = store.find(connection, "anna@example.org")
        assert found is not None
        store.give_stats_consent(connection, found.id, at, "2", "preferences page")
    engine.dispose()
    shown = project.run("subscribers", "show", "anna@example.org").stdout
    assert "personalised statistics: agreed 2026-12-01 09:30 UTC, text version 2" in shown
    record = json.loads(project.run("subscribers", "show", "anna@example.org", "--json").stdout)
    assert record["stats_consent"] == {"at": at.isoformat(), "text_version": "2"}
    assert record["history"][-1]["cause"] == (
        "agreed to personalised statistics (text version 2, preferences page)"
    )
