"""No production site signs with the public development key, and a key can be rotated.

Every command that signs or verifies links is started as an operator would, with and
without NEWSLETTER_SECRET_KEY; the forgeries are made with the key that is in the source.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
import pytest

from pipeline import db
from pipeline.environment import DEVELOPMENT_SECRET_KEY
from pipeline.tokens import make_token, read_token
from pipeline.web.desk.pages import SESSION_COOKIE
from pipeline.web.desk.sessions import start_session
from subscribers import store
from tests.conftest import Project, serve_command

KEY_A = "first-key-of-the-rotation-tests-0123456789"
KEY_B = "second-key-of-the-rotation-tests-012345678"
NO_SECRETS: dict[str, str] = {}
EDITOR = "redaktion@netzwerk-quartier.example.org"


def _issues_built(project: Project) -> int:
    return project.run("status", "--json").stdout.count('"subject"')


@pytest.mark.parametrize(
    "command",
    [
        ["send"],
        ["send", "--resume"],
        ["run"],
        ["worker"],
        ["test-send", "--to", "someone@example.org"],
        ["serve", "--host", "0.0.0.0", "--port", "0"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_command_that_signs_refuses_to_start_without_a_key(
    ready_project: Project, command: list[str]
) -> None:
    result = ready_project.run(*command, check=False, in_process=False, secrets=NO_SECRETS)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "NEWSLETTER_SECRET_KEY is not set" in result.stderr
    assert "--dev" in result.stderr
    assert not list(ready_project.outbox.glob("*.eml"))
    assert _issues_built(ready_project) == 0


@pytest.mark.parametrize(
    "secrets",
    [
        {"NEWSLETTER_SECRET_KEY": "short-key"},
        {"NEWSLETTER_SECRET_KEY": DEVELOPMENT_SECRET_KEY},
        {"NEWSLETTER_SECRET_KEY": KEY_B, "NEWSLETTER_SECRET_KEY_OLD": "short-old-key"},
    ],
    ids=["short", "the public key", "short old key"],
)
def test_a_weak_key_is_refused(ready_project: Project, secrets: dict[str, str]) -> None:
    result = ready_project.run("send", check=False, secrets=secrets)
    assert result.returncode == 2
    assert "NEWSLETTER_SECRET_KEY" in result.stderr
    assert not list(ready_project.outbox.glob("*.eml"))


@pytest.mark.parametrize("where", ["before", "after"])
def test_dev_marks_a_development_site_before_or_after_the_command(
    ready_project: Project, where: str
) -> None:
    args = ["--dev", "send"] if where == "before" else ["send", "--dev"]
    result = ready_project.run(*args, secrets=NO_SECRETS)
    assert "development key" in result.stderr
    mails = _mails(ready_project)
    assert len(mails) == 4
    token = _unsubscribe_url(mails[0]).rpartition("/")[2]
    assert read_token(DEVELOPMENT_SECRET_KEY, "unsubscribe", token) > 0


def test_serve_on_loopback_with_the_outbox_runs_as_a_development_site(
    ready_project: Project,
) -> None:
    with serve_command(ready_project, "--host", "127.0.0.1", secrets=NO_SECRETS) as (url, _):
        assert httpx.get(f"{url}/subscribe").status_code == 200


def test_serve_on_loopback_with_a_real_mail_service_needs_a_key(ready_project: Project) -> None:
    ready_project.edit_config(lambda raw: raw["provider"].update(name="smtp"))  # type: ignore[union-attr]
    result = ready_project.run(
        "serve", "--port", "0", check=False, in_process=False, secrets=NO_SECRETS
    )
    assert result.returncode == 2
    assert "NEWSLETTER_SECRET_KEY is not set" in result.stderr


def _mails(project: Project) -> list[EmailMessage]:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(project.outbox.glob("*.eml"))
    ]


def _unsubscribe_url(mail: EmailMessage) -> str:
    found = re.search(r"<(https://[^>]+)>", str(mail["List-Unsubscribe"]))
    assert found, mail["List-Unsubscribe"]
    return found.group(1)


def _one_click(server: str, project: Project, url: str) -> httpx.Response:
    path = url.removeprefix(project.config().site.url)
    return httpx.post(server + path, data={"List-Unsubscribe": "One-Click"}, timeout=30)


def _state(project: Project, subscriber_id: int) -> str:
    with project.engine().connect() as connection:
        found = store.get(connection, subscriber_id)
    assert found is not None
    return found.state


def test_links_signed_with_the_old_key_still_work_after_rotation(
    ready_project: Project,
) -> None:
    ready_project.run("send", secrets={"NEWSLETTER_SECRET_KEY": KEY_A})
    first, second, *_ = (_unsubscribe_url(mail) for mail in _mails(ready_project))
    first_id = read_token(KEY_A, "unsubscribe", first.rpartition("/")[2])
    second_id = read_token(KEY_A, "unsubscribe", second.rpartition("/")[2])
    rotated = {"NEWSLETTER_SECRET_KEY": KEY_B, "NEWSLETTER_SECRET_KEY_OLD": KEY_A}
    with serve_command(ready_project, secrets=rotated) as (server, _):
        assert _one_click(server, ready_project, first).status_code == 200
    assert _state(ready_project, first_id) == "unsubscribed"
    with serve_command(ready_project, secrets={"NEWSLETTER_SECRET_KEY": KEY_B}) as (server, _):
        assert _one_click(server, ready_project, second).status_code == 400
    assert _state(ready_project, second_id) == "active"


def test_a_site_with_a_key_refuses_what_the_public_key_signs(ready_project: Project) -> None:
    ready_project.edit_config(lambda raw: raw.update(editors=[EDITOR]))
    with serve_command(ready_project, secrets={"NEWSLETTER_SECRET_KEY": KEY_B}) as (server, _):
        forged = make_token(DEVELOPMENT_SECRET_KEY, "unsubscribe", 1)
        answer = httpx.post(
            f"{server}/unsubscribe/{forged}", data={"List-Unsubscribe": "One-Click"}, timeout=30
        )
        assert answer.status_code == 400
        # A real session row, its cookie signed with the public key: refused all the same.
        engine = db.make_engine(ready_project.config().database.url)
        forged_session = start_session(
            engine, DEVELOPMENT_SECRET_KEY, EDITOR, "", datetime.now(UTC)
        )
        engine.dispose()
        desk = httpx.get(
            f"{server}/desk",
            cookies={SESSION_COOKIE: forged_session},
            timeout=30,
        )
        assert desk.status_code == 303
        assert desk.headers["location"].startswith("/desk/sign-in")
    assert _state(ready_project, 1) == "active"
