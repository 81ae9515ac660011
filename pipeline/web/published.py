"""What the public may see: what has gone out in an issue, and nothing from the queue.

An issue has gone out once it finished, or once any of its mails was handed over (a reader
may click while a long send runs, or while `--retry-failed` reopened it). Everything else,
queued, approved, embargoed (`publish_after`) or built and not yet mailed, answers exactly
as an id that does not exist would: no oracle for what the queue holds.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.db import deliveries, issue_items, issues, items

# "unsettled": caught mid-call by a crash; the message may have arrived.
HANDED_OVER = ("sent", "unsettled")


def issue_has_gone_out() -> sa.ColumnElement[bool]:
    """True for the rows of `issues` whose mails have gone out (see the module's doc)."""
    handed_over = sa.exists().where(
        deliveries.c.issue_id == issues.c.id, deliveries.c.state.in_(HANDED_OVER)
    )
    return sa.or_(issues.c.state == "sent", handed_over)


def published_item() -> sa.ColumnElement[bool]:
    """True for the rows of `items` that went out in an issue and were not withdrawn since
    (an item leaves the state `sent` only by an editor's act)."""
    gone_out = (
        sa.select(issue_items.c.item_id)
        .join(issues, issues.c.id == issue_items.c.issue_id)
        .where(issue_has_gone_out())
    )
    return sa.and_(items.c.state == "sent", items.c.id.in_(gone_out))
