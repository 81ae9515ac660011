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
from tests.conftest import Project

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


BOUNCE_ADDRESS = "bounces@netzwerk-quartier.example.org"


def use_mailbox(project: Project, settings: BounceMailbox, database_url: str | None = None) -> None:
    """Point the project's config at the mailbox (and, given one, another database)."""

    def change(raw: dict[str, object]) -> None:
        raw["bounces"] = {
            "address": BOUNCE_ADDRESS,
            "mailbox": settings.model_dump(mode="json", exclude_none=True),
        }
        if database_url is not None:
            raw["database"] = {"url": database_url}

    project.edit_config(change)


def dsn(token: str, recipient: str, status: str, diagnostic: str, *, number: int = 1) -> bytes:
    """A minimal RFC 3464 report as Postfix writes one, to the VERP address of `token`,
    the returned headers carrying the delivery's Message-ID and X-Newsletter-Delivery."""
    local, _, domain = BOUNCE_ADDRESS.partition("@")
    action = "failed" if status.startswith("5") else "delayed"
    return (
        f"Return-Path: <>\r\n"
        f"Delivered-To: {local}+{token}@{domain}\r\n"
        f"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        f"To: {local}+{token}@{domain}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{token}.{status}.{number}@mx.example.net>\r\n"
        f"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        f"\r\n"
        f"--b1\r\n"
        f"Content-Type: text/plain\r\n"
        f"\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"\r\n"
        f"--b1\r\n"
        f"Content-Type: message/delivery-status\r\n"
        f"\r\n"
        f"Reporting-MTA: dns; mx.example.net\r\n"
        f"\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        f"\r\n"
        f"--b1\r\n"
        f"Content-Type: text/rfc822-headers\r\n"
        f"\r\n"
        f"From: Netzwerk Quartier <newsletter@netzwerk-quartier.example.org>\r\n"
        f"To: {recipient}\r\n"
        f"Subject: Ausgabe {number}\r\n"
        f"X-Newsletter-Delivery: {token}\r\n"
        f"\r\n"
        f"--b1--\r\n"
    ).encode()
