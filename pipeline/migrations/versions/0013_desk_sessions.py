"""editors' desk: sessions kept on the server, so signing out ends them

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions signed before this were cookies alone: they open nothing any more, and the
    # editor signs in again once.
    op.create_table(
        "desk_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("editor", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_desk_sessions")),
    )
    op.create_index("ix_desk_sessions_editor", "desk_sessions", ["editor"])
    op.create_index("ix_desk_sessions_expires_at", "desk_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_desk_sessions_expires_at", table_name="desk_sessions")
    op.drop_index("ix_desk_sessions_editor", table_name="desk_sessions")
    op.drop_table("desk_sessions")
