"""The "your news went out" mail: `newsletter send` of an issue carrying a partner's
approved submission mails the partner's registered address the archive link, once."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import sqlalchemy as sa

from pipeline.db import items
from pipeline.queue.submissions import store_submission, submission_key
from tests.collect.helpers import news_item
from tests.conftest import Project

PARTNER = "buero@nord.example.org"


def _mails_to(project: Project, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted(project.outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["To"].addresses[0].addr_spec == address:  # type: ignore[union-attr]
            found.append(message)
    return found


def _partner_id(project: Project) -> int:
    with project.engine().connect() as connection:
        return int(connection.execute(sa.text("SELECT id FROM partners")).scalar_one())


def test_the_partner_is_told_once_when_the_issue_with_their_news_goes_out(
    ready_project: Project,
) -> None:
    ready_project.run("partners", "add", "Stadtteilbüro Nord", PARTNER)
    partner_id = _partner_id(ready_project)
    at = datetime.now(UTC)
    title = "Neuer Treffpunkt im Stadtteilbüro Nord"
    item = replace(
        news_item(submission_key(partner_id, "f1"), "Stadtteilbüro Nord", title, None, at),
        topics=("netzwerk",),
    )
    stored = store_submission(ready_project.engine(), item, partner_id, at)
    waiting = ready_project.run("send")
    assert _mails_to(ready_project, PARTNER) == []  # still waiting for an editor
    assert "partner(s) told" not in waiting.stdout

    ready_project.run("queue", "approve", str(stored.item_id))
    sent = ready_project.run("send")
    assert "1 partner(s) told that their news went out." in sent.stdout
    with ready_project.engine().connect() as connection:
        row = connection.execute(
            sa.select(items.c.state, items.c.issue_id).where(items.c.id == stored.item_id)
        ).one()
        number = connection.execute(
            sa.text("SELECT number FROM issues WHERE id = :i"), {"i": row.issue_id}
        ).scalar_one()
    assert row.state == "sent"
    [told] = _mails_to(ready_project, PARTNER)
    assert told["Subject"].strip() == f"Ihre Nachricht ist erschienen: {title}"
    text = told.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    url = str(ready_project.config().site.url)
    assert f"{url}/archive/{number}" in text and f"Ausgabe {number}" in text

    ready_project.run("send", "--resume", check=False)
    assert len(_mails_to(ready_project, PARTNER)) == 1
