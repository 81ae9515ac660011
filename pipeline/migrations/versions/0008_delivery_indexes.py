"""delivery indexes: drop the one the claim index covers, find a reader's deliveries

Revision ID: 0008
Revises: 0007

`ix_deliveries_issue_state` (issue_id, state) is a prefix of `ix_deliveries_claim`
(issue_id, state, id): PostgreSQL chose it right after a send's rows were created and
sorted every pending row for each claim (37 ms a claim of 1,000 instead of 14), and each
state change had one more index to write. An unsubscribe cancels the reader's pending
deliveries by subscriber_id, which no index covered: a scan of every issue's rows.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_issue_state")
        batch_op.create_index("ix_deliveries_subscriber", ["subscriber_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_subscriber")
        batch_op.create_index("ix_deliveries_issue_state", ["issue_id", "state"], unique=False)
