"""What the bounce tests share: a mailbox's settings for a Dovecot user, and readers with
deliveries in a store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from pipeline import db
from pipeline.config import BounceMailbox
from pipeline.db import deliveries, issues
from subscribers import store
from tests.bounces.dovecot import Dovecot, MailUser

Tls = Literal["tls", "starttls", "none"]


def mailbox_settings(
    server: Dovecot, user: MailUser, protocol: Literal["imap", "pop3"], tls: Tls
) -> BounceMailbox:
    """bounces.mailbox for the user: the implicit-TLS port for `tls`, else the plain one."""
    if tls == "tls":
        port = server.imaps_port if protocol == "imap" else server.pop3s_port
    else:
        port = server.imap_port if protocol == "imap" else server.pop3_port
    return BounceMailbox(
        protocol=protocol, host="127.0.0.1", port=port, username=user.username, tls=tls
    )


@dataclass(frozen=True)
class Sent:
    subscriber_id: int
    delivery_id: int


def reader_with_delivery(
    engine: sa.Engine, email: str, *, issue_number: int = 1, state: str = "sent"
) -> Sent:
    """An active reader and a delivery of issue `issue_number` to them (made if missing)."""
    at = db.now()
    with engine.begin() as connection:
        reader = store.find(connection, email) or store.add(
            connection,
            email=email,
            state="active",
            consent=store.Consent("admin", "bounce tests", at),
        )
        issue_id = connection.execute(
            sa.select(issues.c.id).where(issues.c.number == issue_number)
        ).scalar_one_or_none()
        if issue_id is None:
            issue_id = connection.execute(
                sa.insert(issues)
                .values(number=issue_number, subject="Ausgabe", state="sent", created_at=at)
                .returning(issues.c.id)
            ).scalar_one()
        delivery_id = connection.execute(
            sa.insert(deliveries)
            .values(issue_id=issue_id, subscriber_id=reader.id, state=state, updated_at=at)
            .returning(deliveries.c.id)
        ).scalar_one()
    return Sent(reader.id, delivery_id)
