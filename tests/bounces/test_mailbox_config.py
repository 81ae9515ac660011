"""bounces.mailbox in config.yaml, as `newsletter` reads it: `tls: none` only for a
loopback host, and no password in the file (it comes from NEWSLETTER_BOUNCE_PASSWORD)."""

from __future__ import annotations

import pytest

from tests.conftest import Project


def _with_mailbox(project: Project, **mailbox: object) -> None:
    settings = {"host": "mail.example.org", "username": "bounces", **mailbox}
    project.edit_config(lambda raw: raw.update(bounces={"mailbox": settings}))


def _error_line(project: Project) -> str:
    result = project.run("status", check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return line


@pytest.mark.parametrize("host", ["mail.example.org", "192.0.2.10", "localhost.example.org"])
def test_tls_none_for_a_host_elsewhere_is_a_config_error(project: Project, host: str) -> None:
    _with_mailbox(project, host=host, tls="none")
    line = _error_line(project)
    assert "bounces.mailbox" in line and "loopback" in line and host in line, line


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_tls_none_is_allowed_on_loopback(project: Project, host: str) -> None:
    _with_mailbox(project, host=host, tls="none")
    assert project.config().bounces.mailbox is not None


def test_a_password_in_the_config_file_is_refused(project: Project) -> None:
    _with_mailbox(project, password="geheim-4711")
    line = _error_line(project)
    assert "bounces.mailbox.password: unknown key" in line, line
    assert "geheim-4711" not in line
