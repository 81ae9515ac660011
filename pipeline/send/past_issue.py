"""`send --issue N`: resuming an unfinished issue, or sending a finished one's failures again.

One issue is sent at a time: whatever N is, an unfinished other issue is named and
refused, as `send` refuses a new issue then. A finished issue is never sent again as a
whole; only its failed deliveries may be, and only to readers who may still be mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import deliveries, issues
from pipeline.errors import SendRefused
from pipeline.send.ledger import counts
from subscribers.store import active_ids


@dataclass(frozen=True)
class PastIssue:
    id: int
    number: int
    state: str
    finished_at: datetime | None


@dataclass(frozen=True)
class Reopened:
    issue: PastIssue
    reopened: int
    """Failed deliveries put back to pending."""
    skipped: int
    """Failed deliveries of readers who may not be mailed now (unsubscribed, suppressed)."""


def find_issue(connection: sa.Connection, number: int) -> PastIssue:
    row = connection.execute(
        sa.select(issues.c.id, issues.c.number, issues.c.state, issues.c.finished_at).where(
            issues.c.number == number
        )
    ).first()
    if row is None:
        last = connection.execute(sa.select(sa.func.max(issues.c.number))).scalar()
        known = f"the last one is {last}" if last else "none has been built yet"
        raise SendRefused(f"there is no issue {number} ({known})")
    return PastIssue(row.id, row.number, row.state, row.finished_at)


def _unfinished_other(connection: sa.Connection, number: int) -> None:
    other = connection.execute(
        sa.select(issues.c.number).where(issues.c.state == "sending", issues.c.number != number)
    ).scalar()
    if other is not None:
        raise SendRefused(
            f"issue {other} has not finished sending: only one issue is sent at a time; "
            f"`newsletter send --issue {other} --resume` finishes it first"
        )


def finished_summary(connection: sa.Connection, issue: PastIssue) -> str:
    by_state = counts(connection, issue.id)
    when = f" on {issue.finished_at:%Y-%m-%d %H:%M} UTC" if issue.finished_at else ""
    failed = by_state.get("failed", 0)
    summary = (
        f"issue {issue.number} has been sent{when}: {by_state.get('sent', 0)} sent, "
        f"{failed} failed, {by_state.get('unsettled', 0)} unsettled, "
        f"{by_state.get('cancelled', 0)} skipped"
    )
    if failed:
        summary += (
            f"; `newsletter send --issue {issue.number} --retry-failed` tries the failed again"
        )
    return summary


def issue_to_resume(connection: sa.Connection, number: int) -> PastIssue:
    """Issue N, if it is the unfinished one; SendRefused naming why not otherwise."""
    issue = find_issue(connection, number)
    _unfinished_other(connection, number)
    if issue.state != "sending":
        raise SendRefused(finished_summary(connection, issue))
    return issue


def refuse_without_mode(connection: sa.Connection, number: int) -> SendRefused:
    """What `send --issue N` alone says: N is either unfinished (resume it) or finished."""
    issue = find_issue(connection, number)
    if issue.state == "sending":
        return SendRefused(
            f"issue {number} has not finished sending: "
            f"`newsletter send --issue {number} --resume` finishes it"
        )
    return SendRefused(finished_summary(connection, issue))


def reopen_failed(engine: sa.Engine, number: int, at: datetime) -> Reopened:
    """Put a finished issue's failed deliveries back to pending, in one transaction.

    Sent and unsettled rows stay as they are (an unsettled message may have arrived);
    failed rows of readers no longer in the audience are cancelled, with their error kept.
    The issue counts as unfinished again until the retry has run.
    """
    with engine.begin() as connection:
        issue = find_issue(connection, number)
        _unfinished_other(connection, number)
        if issue.state == "sending":
            raise SendRefused(
                f"issue {number} has not finished sending: "
                f"`newsletter send --issue {number} --resume` finishes it first"
            )
        failed = sa.and_(deliveries.c.issue_id == issue.id, deliveries.c.state == "failed")
        reopened = connection.execute(
            sa.update(deliveries)
            .where(failed, deliveries.c.subscriber_id.in_(active_ids()))
            .values(state="pending", attempts=0, error=None, updated_at=at)
        ).rowcount
        skipped = connection.execute(
            sa.update(deliveries).where(failed).values(state="cancelled", updated_at=at)
        ).rowcount
        if reopened:
            connection.execute(
                sa.update(issues)
                .where(issues.c.id == issue.id)
                .values(state="sending", finished_at=None)
            )
    return Reopened(issue, reopened, skipped)
