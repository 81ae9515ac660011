"""The last issues and how their delivery went, for `status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import deliveries, issues


@dataclass(frozen=True)
class IssueRecord:
    number: int
    subject: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    deliveries: dict[str, int]

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
    return [
        IssueRecord(
            row.number, row.subject, row.state, row.created_at, row.finished_at, counts[row.id]
        )
        for row in rows
    ]
