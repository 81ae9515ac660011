"""A message the server cannot give (its file unreadable on the server's side): over
POP3 Dovecot answers -ERR and the session goes on, so it is a warning line and the rest is
read. (Over IMAP Dovecot ends the whole session on it, BYE: the read is an error line;
a server that answers NO gets the same warning as here.)"""

from __future__ import annotations

import pytest

from pipeline.bounces.classify import classify
from pipeline.bounces.fetch import fetch_bounces
from pipeline.tokens import make_delivery_token
from tests.bounces.dovecot import Dovecot
from tests.bounces.helpers import dsn, mailbox_settings, reader_with_delivery, use_mailbox
from tests.conftest import TEST_SECRET_KEY, Project


@pytest.mark.parametrize("protocol", ["pop3"])
def test_a_message_the_server_cannot_give_does_not_end_the_read(
    protocol: str, project: Project, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = dovecot.new_user()
    use_mailbox(project, mailbox_settings(dovecot, user, protocol, "none"))  # type: ignore[arg-type]
    project.run("db", "upgrade")
    monkeypatch.setenv("NEWSLETTER_BOUNCE_PASSWORD", user.password)
    engine = project.engine()
    bounces = []
    for n in range(2):
        sent = reader_with_delivery(engine, f"leser{n}@example.org")
        token = make_delivery_token(TEST_SECRET_KEY, sent.delivery_id)
        bounces.append(dsn(token, f"leser{n}@example.org", "5.1.1", "550 user unknown"))
    dovecot.append(user, *bounces)
    maildir = dovecot.root / "home" / user.username / "Maildir"
    [first, _second] = sorted(
        (path for path in maildir.glob("*/*") if path.parent.name in ("new", "cur")),
        key=lambda path: path.name,
    )
    first.chmod(0)
    try:
        report = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)
    finally:
        for path in maildir.glob(f"*/{first.name.partition(':')[0]}*"):
            path.chmod(0o600)
    [problem] = report.problems
    assert "the server refused to give the message" in problem, problem
    assert report.counts == {"hard": 1}
    again = fetch_bounces(project.config(), engine, TEST_SECRET_KEY, classify)
    assert again.counts == {"hard": 1} and again.problems == [], "read once the file is back"
