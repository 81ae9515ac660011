"""`/events/<id>.ics` and `/archive/<n>` show only what has gone out in an issue.

Through a real `newsletter serve` over the project's SQLite file: a queued or embargoed
event and a built, unmailed issue answer 404 like an id that does not exist; the signed
calendar links of a test mail and a preview open their event; a tampered one does not.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from email.message import EmailMessage

import httpx
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from pipeline import db
from pipeline.db import issue_links, items
from pipeline.issue.build import build_issue
from pipeline.tokens import EVENT_PREVIEW_MAX_AGE
from tests.conftest import TEST_SECRET_KEY, Project, serve_command

SIGNED = re.compile(r"https://[^\s\"'<>\]]+/events/(\d+)\.ics\?preview=([A-Za-z0-9_.-]+)")


def _embargo_the_online_forum(project: Project) -> None:
    path = project.content_dir / "2027-04-15-online-forum.md"
    text = path.read_text("utf-8")
    path.write_text(text.replace("kind: event\n", "kind: event\npublish_after: 2099-01-01\n"))


def _event_ids(project: Project) -> tuple[int, int]:
    with project.engine().connect() as connection:

        def find(title: str) -> int:
            query = sa.select(items.c.id).where(items.c.title.like(f"{title}%"))
            return int(connection.execute(query).scalar_one())

        return find("Quartierswerkstatt"), find("Online-Forum")


def _signed_days_ago(days: int, item_id: int) -> str:
    """A preview link as `newsletter preview` made it `days` ago, with the test's key."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - days * 86400

    serializer = URLSafeTimedSerializer(
        TEST_SECRET_KEY, salt="newsletter.event-preview", signer=Then
    )
    return str(serializer.dumps(item_id))


def _text_of(path_bytes: bytes) -> str:
    message = email.message_from_bytes(path_bytes, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    parts = [p.get_content() for p in message.walk() if p.get_content_type() == "text/plain"]
    return "\n".join(parts)


def test_unpublished_events_and_issues_answer_404_and_signed_preview_links_open(
    project: Project,
) -> None:
    _embargo_the_online_forum(project)
    project.run("db", "upgrade")
    project.run("subscribers", "import", "subscribers.csv", "--apply", "--consent-given-by", "t")
    project.run("collect")
    workshop, embargoed = _event_ids(project)
    project.run("test-send", "--to", "redaktion@example.org")
    (test_mail,) = project.outbox.glob("*.eml")
    signed = SIGNED.findall(_text_of(test_mail.read_bytes()))
    assert [int(found) for found, _token in signed] == [workshop]
    token = signed[0][1]
    test_mail.unlink()

    with serve_command(project) as (url, _process), httpx.Client(base_url=url) as client:
        missing = client.get("/events/99999.ics")
        assert missing.status_code == 404
        for queued in (workshop, embargoed):
            answer = client.get(f"/events/{queued}.ics")
            assert (answer.status_code, answer.content) == (404, missing.content)

        opened = client.get(f"/events/{workshop}.ics", params={"preview": token})
        assert opened.status_code == 200
        assert opened.headers["content-type"].startswith("text/calendar")
        assert b"Quartierswerkstatt" in opened.content

        # The signature's first character: every bit of it is signature (the last one of
        # a base64 text may carry padding bits only, and a change there decodes the same).
        payload, _, signature = token.rpartition(".")
        flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
        tampered = f"{payload}.{flipped}"
        for forged in (tampered, token + "x", "", "not.a.token"):
            answer = client.get(f"/events/{workshop}.ics", params={"preview": forged})
            assert (answer.status_code, answer.content) == (404, missing.content)
        # A signature made for one event opens no other, and none opens for ever.
        stale = _signed_days_ago(EVENT_PREVIEW_MAX_AGE.days + 1, workshop)
        answer = client.get(f"/events/{workshop}.ics", params={"preview": stale})
        assert (answer.status_code, answer.content) == (404, missing.content)
        recent = _signed_days_ago(EVENT_PREVIEW_MAX_AGE.days - 1, workshop)
        assert client.get(f"/events/{workshop}.ics", params={"preview": recent}).status_code == 200
        assert client.get(f"/events/{embargoed}.ics", params={"preview": token}).status_code == 404

        # Built, its items marked sent, not one mail handed over: still queue content.
        built = build_issue(project.engine(), project.config(), db.now())
        assert client.get(f"/archive/{built.number}").status_code == 404
        assert client.get(f"/events/{workshop}.ics").status_code == 404

        project.run("send", "--resume")
        assert client.get(f"/archive/{built.number}").status_code == 200
        sent = client.get(f"/events/{workshop}.ics")
        assert sent.status_code == 200 and sent.headers["content-type"].startswith("text/calendar")
        assert client.get(f"/events/{embargoed}.ics").status_code == 404  # not in the issue

    # The issue's mails track the calendar link; what it leads to is the plain one.
    issue_mails = [_text_of(path.read_bytes()) for path in project.outbox.glob("*.eml")]
    with project.engine().connect() as connection:
        calendar = connection.execute(
            sa.select(issue_links.c.url).where(
                issue_links.c.issue_id == built.id, issue_links.c.kind == "calendar"
            )
        ).scalars()
        assert set(calendar) == {f"{project.config().site.url}/events/{workshop}.ics"}
    assert not any("?preview=" in text for text in issue_mails)


def test_preview_files_carry_signed_calendar_links(ready_project: Project) -> None:
    workshop, _forum = _event_ids(ready_project)
    ready_project.run("preview", "--out", "out")
    page = (ready_project.root / "out" / "issue-1.de.html").read_text("utf-8")
    text = (ready_project.root / "out" / "issue-1.de.txt").read_text("utf-8")
    assert f"/events/{workshop}.ics?preview=" in page
    assert f"/events/{workshop}.ics?preview=" in text
    assert re.search(rf"/events/{workshop}\.ics[\"']", page) is None  # no plain link


def test_preview_without_a_key_is_refused(ready_project: Project) -> None:
    result = ready_project.run("preview", "--out", "out", check=False, secrets={})
    assert result.returncode == 2 and "NEWSLETTER_SECRET_KEY" in result.stderr
