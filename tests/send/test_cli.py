"""What an operator reads from `newsletter send`: the plan of a dry run, the summary."""

from __future__ import annotations

from tests.conftest import Project


def _said(output: str) -> str:
    return " ".join(output.split())  # Rich wraps long lines at the terminal's width


def test_dry_run_names_calls_and_the_least_time_at_the_rate_limit(ready_project: Project) -> None:
    ready_project.edit_config(lambda raw: raw["provider"].update(rate_per_s=2, max_batch=3))
    said = _said(ready_project.run("send", "--dry-run").stdout)
    assert "for 4 recipients" in said
    assert "in 2 outbox calls of up to 2, at most 2 recipients/s (at least 2 s)" in said
    assert "Nothing was sent" in said


def test_send_ends_with_a_summary_of_every_state(ready_project: Project) -> None:
    said = _said(ready_project.run("send").stdout)
    assert "Issue 1: 4 sent into" in said
    assert "0 failed, 0 skipped, 0 unsettled (4 in this run" in said
    resumed = _said(ready_project.run("send", "--resume").stdout)
    assert "No issue is unfinished: nothing to resume." in resumed
