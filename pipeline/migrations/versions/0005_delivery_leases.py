"""delivery leases, claim index, shared rate budget

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_deliveries_claim", ["issue_id", "state", "id"], unique=False)
    op.create_table(
        "rate_budgets",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_rate_budgets_issue_id_issues")
        ),
        sa.PrimaryKeyConstraint("issue_id", name=op.f("pk_rate_budgets")),
    )


def downgrade() -> None:
    op.drop_table("rate_budgets")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
