"""partners (who may send news in through a personal link) and items' partner: the
partner a submission came from (`submit:` items), and when the partner was told it went out

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False, unique=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        # Signed into the partner's link; a new one (or revoked_at) kills the old link.
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    # No foreign key, as 0017: adding one to SQLite means a batch copy of `items`.
    op.add_column("items", sa.Column("partner_id", sa.Integer(), nullable=True))
    op.add_column("items", sa.Column("partner_told_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE items DROP COLUMN partner_told_at")
    op.execute("ALTER TABLE items DROP COLUMN partner_id")
    op.drop_table("partners")
