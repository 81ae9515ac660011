"""The last issues and how their delivery went, for `status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import deliveries, delivery_events, issues
from subscribers.schema import subscribers


@dataclass(frozen=True)
class IssueRecord:
    number: int
    subject: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    deliveries: dict[str, int]
    bounced: int
    """Sent to readers whose address has since bounced or complained."""
    blocked: int = 0
    """Deliveries refused by policy (5.7.x, spam, reputation): our mail, not the address."""
    complaints: int = 0
    """Deliveries their reader reported as spam (a webhook's or the mailbox's complaint)."""

    @property
    def per_second(self) -> float | None:
        """Delivered recipients a second over the send's whole duration."""
        if self.finished_at is None:
            return None
        seconds = (self.finished_at - self.created_at).total_seconds()
        return self.deliveries.get("sent", 0) / seconds if seconds > 0 else None

    def as_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "subject": self.subject,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "deliveries": self.deliveries,
            "bounced": self.bounced,
            "blocked": self.blocked,
            "complaints": self.complaints,
            "per_second": self.per_second,
        }


def last_issues(connection: sa.Connection, limit: int = 5) -> list[IssueRecord]:
    rows = connection.execute(sa.select(issues).order_by(issues.c.number.desc()).limit(limit)).all()
    counts: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    if counts:
        for issue_id, state, count in connection.execute(
            sa.select(deliveries.c.issue_id, deliveries.c.state, sa.func.count())
            .where(deliveries.c.issue_id.in_(counts))
            .group_by(deliveries.c.issue_id, deliveries.c.state)
        ):
            counts[issue_id][state] = count
    bounced: dict[int, int] = dict.fromkeys(counts, 0)
    if counts:
        bounced |= dict(
            connection.execute(
                sa.select(deliveries.c.issue_id, sa.func.count())
                .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
                .where(
                    deliveries.c.issue_id.in_(counts),
                    deliveries.c.state == "sent",
                    subscribers.c.state.in_(("bounced", "complained")),
                )
                .group_by(deliveries.c.issue_id)
            ).all()
        )
    blocked = _with_event(connection, list(counts), "block")
    complaints = _with_event(connection, list(counts), "complaint")
    return [
        IssueRecord(
            row.number,
            row.subject,
            row.state,
            row.created_at,
            row.finished_at,
            counts[row.id],
            bounced[row.id],
            blocked[row.id],
            complaints[row.id],
        )
        for row in rows
    ]


def _with_event(connection: sa.Connection, issue_ids: list[int], kind: str) -> dict[int, int]:
    """{issue id: its deliveries with at least one delivery event of `kind`}."""
    found: dict[int, int] = dict.fromkeys(issue_ids, 0)
    if issue_ids:
        found |= {
            issue_id: count
            for issue_id, count in connection.execute(
                sa.select(deliveries.c.issue_id, sa.func.count(sa.distinct(deliveries.c.id)))
                .join(delivery_events, delivery_events.c.delivery_id == deliveries.c.id)
                .where(deliveries.c.issue_id.in_(issue_ids), delivery_events.c.kind == kind)
                .group_by(deliveries.c.issue_id)
            )
        }
    return found
