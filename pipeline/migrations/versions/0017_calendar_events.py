"""items: calendars' events: whether an event lasts all day (its days shown without a
time), and the correction a sent event needs (moved or cancelled in its calendar since)
with the issue that carried it

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "items",
        sa.Column("event_all_day", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("items", sa.Column("correction", sa.String(length=16), nullable=True))
    # No foreign key: adding one to SQLite means a batch copy of `items`, which the foreign
    # keys pointing at it forbid; the id is written by the build that carried it.
    op.add_column("items", sa.Column("correction_issue_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as 0015 does.
    for column in ("correction_issue_id", "correction", "event_all_day"):
        op.execute(f"ALTER TABLE items DROP COLUMN {column}")
