"""The next issue on the desk: preview, checks, audience, send time, approval, a test mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pipeline.db import items, scheduler_jobs
from tests.desk.conftest import EDITOR, desk_csrf, signed_in
from tests.web.conftest import Site


def test_the_issue_page_shows_checks_audience_send_time_and_previews(desk: Site) -> None:
    for number in range(3):
        desk.add_active(f"leser{number}@example.org")
    send_at = datetime(2027, 1, 7, 8, 0, tzinfo=UTC)
    with desk.engine.begin() as connection:
        connection.execute(
            sa.insert(scheduler_jobs).values(
                id="send", next_run_time=send_at.timestamp(), job_state=b"-"
            )
        )
    with signed_in(desk) as client:
        page = client.get("/desk/issue?lang=en").text
        assert "3 active subscribers" in page
        assert "Thursday, January 7, 2027, 9:00" in page  # 08:00 UTC in Berlin
        assert "All checks passed." in page or "Warning" in page
        assert "Error:" not in page
        for locale in ("de", "en"):
            assert f'class="phone" src="/desk/issue/preview/{locale}"' in page
            assert f'class="desktop" src="/desk/issue/preview/{locale}"' in page
        preview = client.get("/desk/issue/preview/de")
        assert preview.status_code == 200
        assert "Quartierswerkstatt Wuppertal" in preview.text
        assert "Erika" in preview.text or "Hallo" in preview.text  # sample reader values
        assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
        english = client.get("/desk/issue/preview/en").text
        assert 'lang="en"' in english


def test_before_the_daemon_ran_the_issue_page_shows_the_configs_next_send(desk: Site) -> None:
    with signed_in(desk) as client:
        page = client.get("/desk/issue?lang=de").text
    found = re.search(r'<time datetime="([^"]+)">([^<]+)</time> \(([^)]+)\)', page)
    assert found, page
    planned = datetime.fromisoformat(found.group(1)).astimezone(ZoneInfo("Europe/Berlin"))
    # The sample's schedule.send: Thursdays at 09:00, in site.timezone.
    assert (planned.weekday(), planned.hour, planned.minute) == (3, 9, 0)
    assert planned > datetime.now(UTC)
    assert found.group(2).startswith("Donnerstag,") and found.group(2).endswith("09:00 Uhr")
    assert found.group(3) == "nach dem Zeitplan in config.yaml, sobald `newsletter run` läuft"
    assert "Keiner" not in page


def test_approve_issue_approves_every_queued_item_of_the_next_issue(approval_desk: Site) -> None:
    with signed_in(approval_desk) as client:
        page = client.get("/desk/issue?lang=en").text
        assert "Approve issue" in page
        assert "wait for approval" in page
        answer = client.post("/desk/issue/approve", data={"csrf": desk_csrf(client)})
        assert answer.status_code == 303
        assert "Every item of this issue is approved." in client.get("/desk/issue?lang=en").text
    with approval_desk.engine.connect() as connection:
        query = sa.select(items.c.state, sa.func.count()).group_by(items.c.state)
        counts = {state: count for state, count in connection.execute(query)}
    assert counts.get("approved", 0) >= 2
    assert counts.get("queued", 0) == 0


def test_the_approve_button_is_only_there_when_approval_is_required(desk: Site) -> None:
    with signed_in(desk) as client:
        assert "Approve issue" not in client.get("/desk/issue?lang=en").text


def test_send_me_a_test_mails_the_signed_in_editor(desk: Site) -> None:
    with signed_in(desk) as client:
        answer = client.post(
            "/desk/issue/test?lang=en", data={"csrf": desk_csrf(client), "locale": "en"}
        )
        assert answer.status_code == 303, answer.text
        page = client.get(answer.headers["location"]).text
        assert "A test of the issue was sent to" in page
    mail = desk.wait_for_mail(EDITOR, count=2)
    assert mail["Subject"].startswith("[TEST] ")
    assert len(desk.mails_to(EDITOR)) == 2  # the sign-in link and the test


def test_pages_showing_issue_html_may_post_no_form_and_the_forms_pages_post_only_home(
    desk: Site,
) -> None:
    """Should markup from a feed ever get past the sanitiser, the pages that show an issue
    (the archive, the desk's preview) let no form post anywhere; pages with forms of their
    own post only to this site."""
    with signed_in(desk) as client:
        preview = client.get("/desk/issue/preview/de").headers["content-security-policy"]
        queue = client.get("/desk").headers["content-security-policy"]
        subscribe = client.get("/subscribe").headers["content-security-policy"]
    policies = {
        "preview": dict(part.strip().split(" ", 1) for part in preview.split(";")),
        "desk": dict(part.strip().split(" ", 1) for part in queue.split(";")),
        "subscribe": dict(part.strip().split(" ", 1) for part in subscribe.split(";")),
    }
    assert policies["preview"]["form-action"] == "'none'"
    assert policies["preview"]["base-uri"] == "'none'"
    assert policies["preview"]["frame-ancestors"] == "'self'"
    assert policies["desk"]["form-action"] == policies["subscribe"]["form-action"] == "'self'"
