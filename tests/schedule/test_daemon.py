"""The daemon as operators run it: two started by mistake act as one; SIGTERM stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline import db
from pipeline.db import issues
from pipeline.issue.build import build_issue
from pipeline.schedule.leader import holder
from tests.conftest import NEWSLETTER, Project, command_environment

READERS = 4


def _start_daemon(project: Project, *extra: str) -> subprocess.Popen[str]:
    """A daemon whose log goes to a file, so a test can read it while the daemon runs."""
    env = command_environment()
    log = (project.root / f"daemon-{time.monotonic_ns()}.log").open("w")
    daemon = subprocess.Popen(
        [NEWSLETTER, "run", "--config", str(project.config_path), *extra],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    daemon.log_path = Path(log.name)  # type: ignore[attr-defined]
    log.close()
    return daemon


def _log_of(daemon: subprocess.Popen[str]) -> str:
    return daemon.log_path.read_text("utf-8")  # type: ignore[attr-defined, no-any-return]


def _stop(daemon: subprocess.Popen[str]) -> tuple[int, str, str]:
    daemon.send_signal(signal.SIGTERM)
    out, _ = daemon.communicate(timeout=30)
    return daemon.returncode, out, _log_of(daemon)


def _wait_for(condition: object, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def unfinished_issue(ready_project: Project) -> Iterator[Project]:
    """Issue 1 built and its deliveries written, as a crash right after building leaves it."""
    build_issue(ready_project.engine(), ready_project.config(), db.now())
    yield ready_project


def _issue_state(project: Project) -> str:
    with project.engine().connect() as connection:
        return str(connection.execute(sa.select(issues.c.state)).scalar_one())


def test_two_daemons_finish_an_unfinished_send_once(unfinished_issue: Project) -> None:
    project = unfinished_issue
    first = _start_daemon(project)
    second = _start_daemon(project)
    try:
        _wait_for(lambda: _issue_state(project) == "sent", "the issue to be sent")
        _wait_for(
            lambda: any("standing by" in _log_of(daemon) for daemon in (first, second)),
            "the second daemon to stand by",
        )
    finally:
        results = [_stop(first), _stop(second)]
    assert len(list(project.outbox.glob("*.eml"))) == READERS
    logs = [err for _code, _out, err in results]
    assert sum("holding the scheduler lock" in log for log in logs) == 1
    assert sum("standing by" in log for log in logs) == 1
    assert [code for code, _out, _err in results] == [0, 0]


def test_sigterm_stops_cleanly_and_says_so(ready_project: Project) -> None:
    daemon = _start_daemon(ready_project, "--log-format", "json")
    _wait_for(lambda: _holder_written(ready_project), "the daemon to take the lock")
    code, out, err = _stop(daemon)
    assert code == 0
    assert "stopped cleanly" in out
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any("SIGTERM" in event["message"] for event in events)
    assert not _holder_written(ready_project), "the lock is released on a clean stop"


def _holder_written(project: Project) -> bool:
    return holder(project.engine()) is not None
