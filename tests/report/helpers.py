"""Rows of a sent issue, inserted directly as the send, the webhooks, the bounce mailbox,
the unsubscribe pages and the /r/ endpoint leave them: what the report reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pipeline.db import (
    clicks,
    deliveries,
    delivery_events,
    issue_items,
    issue_links,
    issue_variants,
    issues,
    items,
    opens,
)
from subscribers.schema import subscriber_events, subscribers

SENT_AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def add_item(connection: sa.Connection, title: str, kind: str, topics: Sequence[str] = ()) -> int:
    return int(
        connection.execute(
            sa.insert(items)
            .values(
                key=f"test:{title}",
                source="content",
                kind=kind,
                title=title,
                link=f"https://example.org/{len(title)}",
                topics=list(topics),
                published_at=SENT_AT,
                state="sent",
                content_hash="0" * 64,
                created_at=SENT_AT,
                updated_at=SENT_AT,
            )
            .returning(items.c.id)
        ).scalar_one()
    )


def add_issue(
    connection: sa.Connection,
    number: int,
    variants: Sequence[str],
    item_ids: Sequence[int] = (),
    subject: str = "Quartiersnachrichten",
) -> int:
    issue_id = int(
        connection.execute(
            sa.insert(issues)
            .values(
                number=number,
                subject=subject,
                state="sent",
                created_at=SENT_AT - timedelta(minutes=5),
                finished_at=SENT_AT + timedelta(minutes=5),
            )
            .returning(issues.c.id)
        ).scalar_one()
    )
    for key in variants:
        connection.execute(
            sa.insert(issue_variants).values(
                issue_id=issue_id, variant=key, subject=subject, html="<p>", text="."
            )
        )
    for position, item_id in enumerate(item_ids):
        connection.execute(
            sa.insert(issue_items).values(issue_id=issue_id, item_id=item_id, position=position)
        )
    return issue_id


def add_readers(
    connection: sa.Connection,
    prefix: str,
    count: int,
    *,
    locale: str = "de",
    topics: Sequence[str] = (),
    agreed_at: datetime | None = None,
) -> list[int]:
    """`count` readers; `agreed_at`: when they agreed to personalised statistics."""
    at = SENT_AT - timedelta(days=30)
    rows = [
        {
            "email": f"{prefix}{n}@example.org",
            "locale": locale,
            "topics": list(topics),
            "state": "active",
            "stats_consent_at": agreed_at,
            "stats_consent_text_version": None if agreed_at is None else "1",
            "created_at": at,
            "updated_at": at,
        }
        for n in range(count)
    ]
    connection.execute(sa.insert(subscribers), rows)
    found = connection.execute(
        sa.select(subscribers.c.id)
        .where(subscribers.c.email.like(f"{prefix}%@example.org"))
        .order_by(subscribers.c.id)
    ).scalars()
    return list(found)


def add_deliveries(
    connection: sa.Connection, issue_id: int, readers: Sequence[int], state: str = "sent"
) -> list[int]:
    connection.execute(
        sa.insert(deliveries),
        [
            {"issue_id": issue_id, "subscriber_id": r, "state": state, "updated_at": SENT_AT}
            for r in readers
        ],
    )
    found = connection.execute(
        sa.select(deliveries.c.subscriber_id, deliveries.c.id).where(
            deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id.in_(readers)
        )
    )
    by_reader = dict(found.all())
    return [by_reader[r] for r in readers]


def delivery_of(connection: sa.Connection, issue_id: int, reader: int) -> int:
    return int(
        connection.execute(
            sa.select(deliveries.c.id).where(
                deliveries.c.issue_id == issue_id, deliveries.c.subscriber_id == reader
            )
        ).scalar_one()
    )


def add_event(
    connection: sa.Connection, delivery_id: int, kind: str, provider: str = "postmark"
) -> None:
    connection.execute(
        sa.insert(delivery_events).values(
            delivery_id=delivery_id,
            provider=provider,
            kind=kind,
            detail=kind,
            received_at=SENT_AT + timedelta(hours=1),
        )
    )


def add_unsubscribe(
    connection: sa.Connection, reader: int, issue_id: int | None, cause: str
) -> None:
    connection.execute(
        sa.insert(subscriber_events).values(
            subscriber_id=reader,
            at=SENT_AT + timedelta(hours=2),
            state="unsubscribed",
            cause=cause,
            issue_id=issue_id,
        )
    )


def add_links(
    connection: sa.Connection,
    issue_id: int,
    rows: Sequence[tuple[int, str, int, str, int | None, str]],
) -> dict[tuple[int, int], int]:
    """rows: (variant_no, variant, position, url, item_id, kind) -> {(variant_no, position): id}."""
    found: dict[tuple[int, int], int] = {}
    for variant_no, variant, position, url, item_id, kind in rows:
        found[(variant_no, position)] = int(
            connection.execute(
                sa.insert(issue_links)
                .values(
                    issue_id=issue_id,
                    variant_no=variant_no,
                    variant=variant,
                    position=position,
                    url=url,
                    item_id=item_id,
                    kind=kind,
                )
                .returning(issue_links.c.id)
            ).scalar_one()
        )
    return found


def add_clicks(
    connection: sa.Connection,
    issue_id: int,
    link_id: int,
    count: int = 1,
    *,
    reader: int | None = None,
    machine: str | None = None,
) -> None:
    connection.execute(
        sa.insert(clicks),
        [
            {
                "issue_id": issue_id,
                "link_id": link_id,
                "clicked_at": SENT_AT + timedelta(minutes=30 + n),
                "machine": machine,
                "subscriber_id": reader,
            }
            for n in range(count)
        ],
    )


def add_opens(
    connection: sa.Connection,
    issue_id: int,
    variant_no: int,
    count: int = 1,
    *,
    reader: int | None = None,
    machine: str | None = None,
) -> None:
    connection.execute(
        sa.insert(opens),
        [
            {
                "issue_id": issue_id,
                "variant_no": variant_no,
                "opened_at": SENT_AT + timedelta(minutes=10),
                "machine": machine,
                "subscriber_id": reader,
            }
            for _ in range(count)
        ],
    )
