"""editors' desk: used sign-in links

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_used_links",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_desk_used_links")),
    )


def downgrade() -> None:
    op.drop_table("desk_used_links")
