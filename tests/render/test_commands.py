"""`newsletter preflight`, the send it gates, `test-send` and `preview --serve`, run for real."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
from email.message import EmailMessage

import httpx
import sqlalchemy as sa

from pipeline.db import deliveries, issues, items
from tests.conftest import NEWSLETTER, Project, command_environment

NO_ALT = (
    "---\ntitle: Bild ohne Beschreibung\nkind: news\ndate: 2026-11-01\nsummary: Kurz.\n---\n"
    'Ein Bild im Text:\n\n<img src="https://example.org/bild.jpg">\n'
)


def test_preflight_passes_on_the_sample_issue(ready_project: Project) -> None:
    result = ready_project.run("preflight")
    assert "Preflight passed for 5 variant(s)" in result.stdout


def test_preflight_fails_naming_the_file_and_send_is_refused(ready_project: Project) -> None:
    (ready_project.content_dir / "ohne-alt.md").write_text(NO_ALT, "utf-8")
    ready_project.run("collect")
    checked = ready_project.run("preflight", check=False)
    assert checked.returncode == 3
    assert "content/ohne-alt.md: image 'https://example.org/bild.jpg' has no alt text" in (
        checked.stdout
    )
    sent = ready_project.run("send", check=False)
    assert sent.returncode == 3
    assert "preflight found 1 error(s), nothing was sent" in sent.stderr
    assert "content/ohne-alt.md" in sent.stderr
    assert not list(ready_project.outbox.glob("*.eml"))
    with ready_project.engine().connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(issues)).scalar() == 0


def test_send_prints_warnings_and_goes_ahead(ready_project: Project) -> None:
    long = "Neues aus dem Netzwerk „Gemeinsam für das Quartier“ – die große Winterausgabe {number}"
    ready_project.edit_config(lambda raw: raw["issue"].update(subject=long))
    result = ready_project.run("send")
    assert "warning: config issue.subject: the subject has" in result.stdout
    assert len(list(ready_project.outbox.glob("*.eml"))) == 4


def test_test_send_goes_through_the_provider_and_marks_nothing_sent(
    ready_project: Project,
) -> None:
    result = ready_project.run("test-send", "--to", "redaktion@example.org")
    assert "sent to redaktion@example.org" in result.stdout
    (path,) = ready_project.outbox.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert str(message["Subject"]).startswith("[TEST] Neues aus dem Netzwerk")
    assert str(message["To"]) == "redaktion@example.org"
    assert message["List-Unsubscribe"]
    with ready_project.engine().connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(issues)).scalar() == 0
        assert connection.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar() == 0
        states = set(connection.execute(sa.select(items.c.state)).scalars())
    assert "sent" not in states
    ready_project.run("send")
    assert len(list(ready_project.outbox.glob("*.eml"))) == 5  # the issue itself still goes out


def test_test_send_refuses_a_bad_address(ready_project: Project) -> None:
    result = ready_project.run("test-send", "--to", "not an address", check=False)
    assert result.returncode == 2 and "--to:" in result.stderr


def test_preview_serve_offers_every_variant_with_a_switcher(ready_project: Project) -> None:
    env = command_environment()
    process = subprocess.Popen(
        [NEWSLETTER, "preview", "--out", "out", "--serve", "--port", "0",
         "--config", str(ready_project.config_path)],
        cwd=ready_project.root, stdout=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if "Serving the preview at" in line:
                url = line.split(" at ", 1)[1].strip()
                break
        assert url.startswith("http://127.0.0.1:")
        index = httpx.get(url, timeout=10).text
        assert 'data-width="375"' in index and 'data-width="800"' in index
        assert '<option value="issue-1.en.html">' in index
        assert '<option value="issue-1.de.partner.html">' in index
        page = httpx.get(url.replace("index.html", "issue-1.en.html"), timeout=10)
        assert page.status_code == 200 and '<html lang="en"' in page.text
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)
