"""Two `newsletter bounces fetch` processes reading one mailbox at the same moment, on
SQLite and on PostgreSQL: each message is applied once, filed once, and none is lost."""

from __future__ import annotations

import subprocess
from collections import Counter

import sqlalchemy as sa

from pipeline.db import bounce_messages, delivery_events
from pipeline.tokens import make_delivery_token
from tests.bounces.dovecot import Dovecot
from tests.bounces.helpers import dsn, mailbox_settings, reader_with_delivery, use_mailbox
from tests.conftest import NEWSLETTER, TEST_SECRET_KEY, Project, command_environment

BOUNCES = 30


def test_two_readers_at_once_apply_each_message_once(
    project: Project, database_url: str, dovecot: Dovecot
) -> None:
    user = dovecot.new_user()
    use_mailbox(project, mailbox_settings(dovecot, user, "imap", "none"), database_url)
    project.run("db", "upgrade")
    engine = project.engine()
    expected: set[int] = set()
    bounces = []
    for n in range(BOUNCES):
        sent = reader_with_delivery(engine, f"leser{n}@example.org")
        token = make_delivery_token(TEST_SECRET_KEY, sent.delivery_id)
        bounces.append(dsn(token, f"leser{n}@example.org", "4.2.2", "452 mailbox full"))
        expected.add(sent.delivery_id)
    dovecot.append(user, *bounces)
    environment = command_environment(
        {"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY, "NEWSLETTER_BOUNCE_PASSWORD": user.password}
    )
    command = [NEWSLETTER, "bounces", "fetch", "--config", str(project.config_path)]
    readers = [
        subprocess.Popen(
            command,
            cwd=project.root,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [reader.communicate(timeout=120) for reader in readers]
    for reader, (_out, err) in zip(readers, outputs, strict=True):
        assert reader.returncode == 0, err.decode()
    with engine.connect() as connection:
        events = Counter(
            connection.execute(
                sa.select(delivery_events.c.delivery_id).where(delivery_events.c.kind == "soft")
            ).scalars()
        )
        stored = connection.execute(sa.select(sa.func.count()).select_from(bounce_messages))
        stored_count = stored.scalar_one()
    assert set(events) == expected and set(events.values()) == {1}, "each applied once"
    assert stored_count == BOUNCES
    assert dovecot.folder(user, "INBOX") == []
    assert len(dovecot.folder(user, "processed")) == BOUNCES, "each filed once, none lost"
    news = [int(out.decode().split(": ")[1].split(" new")[0]) for out, _err in outputs]
    assert sum(news) == BOUNCES, outputs
