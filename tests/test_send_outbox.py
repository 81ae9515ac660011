"""`newsletter send` into the outbox: real RFC 5322 files, one per reader, never twice."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.db import deliveries, items
from pipeline.tokens import read_token
from tests.conftest import TEST_SECRET_KEY, Project

SAMPLE_READERS = {
    "anna.schmidt@example.org",
    "mehmet.yilmaz@example.org",
    "quartiersbuero@example.org",
    "j.kowalski@example.org",
}


def _messages(outbox: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*.eml"))
    ]


@pytest.fixture
def sent(ready_project: Project) -> list[EmailMessage]:
    ready_project.run("send")
    return _messages(ready_project.outbox)


def test_each_active_reader_gets_one_message(sent: list[EmailMessage]) -> None:
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in sent) == sorted(SAMPLE_READERS)


def test_message_has_the_headers_mail_clients_and_gmail_require(sent: list[EmailMessage]) -> None:
    for message in sent:
        assert message["From"].addresses[0].addr_spec == "newsletter@netzwerk-quartier.example.org"
        assert message["Subject"] == "Neues aus dem Netzwerk – Ausgabe 1" or message[
            "Subject"
        ].startswith("Neues")
        assert message["Date"] is not None
        assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
            "@netzwerk-quartier.example.org>"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.get_content_type() == "multipart/alternative"
        html = message.get_body(("html",))
        text = message.get_body(("plain",))
        assert html is not None and text is not None
        assert '<html lang="' in html.get_content()
    assert len({m["Message-ID"] for m in sent}) == len(sent)


def test_unsubscribe_links_are_signed_and_belong_to_the_reader(
    sent: list[EmailMessage], ready_project: Project
) -> None:
    with ready_project.engine().connect() as connection:
        ids = dict(connection.execute(sa.text("SELECT email, id FROM subscribers")).all())
    for message in sent:
        header = message["List-Unsubscribe"]
        https, mailto = [part.strip(" <>") for part in header.split(",")]
        assert https.startswith("https://netzwerk-quartier.example.org/unsubscribe/")
        assert mailto.startswith("mailto:")
        token = https.rpartition("/")[2]
        reader = message["To"].addresses[0].addr_spec
        assert read_token(TEST_SECRET_KEY, "unsubscribe", token) == ids[reader]
        body = message.get_body(("html",)).get_content()
        assert https in body
        assert https in message.get_body(("plain",)).get_content()


def test_greeting_uses_the_readers_name_and_language(sent: list[EmailMessage]) -> None:
    by_reader = {m["To"].addresses[0].addr_spec: m.get_body(("plain",)).get_content() for m in sent}
    assert "Hallo Anna Schmidt," in by_reader["anna.schmidt@example.org"]
    assert "Guten Tag," in by_reader["quartiersbuero@example.org"]
    assert "Hello Jana Kowalski," in by_reader["j.kowalski@example.org"]
    assert "REPORTS" in by_reader["j.kowalski@example.org"]  # she chose "netzwerk" only


def test_second_send_sends_nothing_new(ready_project: Project) -> None:
    ready_project.run("send")
    first = {p.name: p.read_bytes() for p in ready_project.outbox.glob("*.eml")}
    ready_project.run("collect")
    result = ready_project.run("send")
    assert "nothing new to send" in result.stdout.lower()
    assert {p.name: p.read_bytes() for p in ready_project.outbox.glob("*.eml")} == first
    with ready_project.engine().connect() as connection:
        states = set(connection.execute(sa.select(items.c.state)).scalars())
    assert states == {"sent"}


def test_a_new_item_goes_out_in_the_next_issue_alone(ready_project: Project) -> None:
    ready_project.run("send")
    (ready_project.content_dir / "neu.md").write_text(
        "---\ntitle: Eine neue Meldung\nkind: news\ndate: 2026-11-20\nsummary: Neu.\n---\n",
        encoding="utf-8",
    )
    ready_project.run("collect")
    ready_project.run("send")
    second = [m for m in _messages(ready_project.outbox) if m["Subject"].endswith("Ausgabe 2")]
    assert len(second) == len(SAMPLE_READERS)
    text = second[0].get_body(("plain",)).get_content()
    assert "Eine neue Meldung" in text
    assert "Jahresauftakt" not in text


def test_ledger_refuses_a_second_delivery_of_an_issue_to_one_reader(ready_project: Project) -> None:
    ready_project.run("send")
    engine = ready_project.engine()
    with engine.connect() as connection:
        row = connection.execute(sa.select(deliveries).limit(1)).mappings().one()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.insert(deliveries).values(
                issue_id=row["issue_id"],
                subscriber_id=row["subscriber_id"],
                state="pending",
                updated_at=row["updated_at"],
            )
        )


def test_unsubscribed_reader_gets_no_next_issue(ready_project: Project) -> None:
    engine = ready_project.engine()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE subscribers SET state='unsubscribed' WHERE email='anna.schmidt@example.org'"
            )
        )
    ready_project.run("send")
    readers = {m["To"].addresses[0].addr_spec for m in _messages(ready_project.outbox)}
    assert readers == SAMPLE_READERS - {"anna.schmidt@example.org"}


def test_dry_run_sends_nothing(ready_project: Project) -> None:
    result = ready_project.run("send", "--dry-run")
    assert "would hold 6 items for 4 recipients" in result.stdout
    assert not ready_project.outbox.exists() or not list(ready_project.outbox.glob("*.eml"))


def test_resume_finishes_an_interrupted_issue(ready_project: Project) -> None:
    """A crash mid-send leaves rows pending and sending; --resume settles and finishes them."""
    from pipeline.config import load_config
    from pipeline.db import now
    from pipeline.issue.build import build_issue

    config = load_config(ready_project.config_path)
    engine = ready_project.engine()
    built = build_issue(engine, config, now())
    with engine.begin() as connection:
        first = connection.execute(
            sa.select(deliveries.c.id)
            .where(deliveries.c.issue_id == built.id)
            .order_by(deliveries.c.id)
            .limit(1)
        ).scalar_one()
        connection.execute(
            sa.update(deliveries).where(deliveries.c.id == first).values(state="sending")
        )
    refused = ready_project.run("send", check=False)
    assert refused.returncode == 3
    assert "issue 1 has not finished sending" in refused.stderr
    result = ready_project.run("send", "--resume")
    # The outbox overwrites a message's file when it is written again (deduplicates_retries),
    # so the interrupted delivery is simply sent again: every reader has it once.
    assert "1 sent again" in " ".join(result.stdout.split())
    assert len(list(ready_project.outbox.glob("*.eml"))) == len(SAMPLE_READERS)
