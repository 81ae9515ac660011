"""items: remember the state an editor dropped an item from, so it can be restored

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Items dropped before this (by an editor, by dedup or with their file) keep NULL:
    # which of them an editor dropped is not known, so none is offered for restoring.
    op.add_column("items", sa.Column("dropped_from", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of `items` would trip
    # the foreign keys that point at it.
    op.execute("ALTER TABLE items DROP COLUMN dropped_from")
