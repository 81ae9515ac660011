"""pending sign-ups apart from subscribers; rate limits shared by every process

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Confirmation links mailed before this carry no nonce and confirm nothing: a reader
    # still pending then signs up again to get a link that does.
    op.create_table(
        "sign_ups",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("consent_text_version", sa.String(length=40), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_sign_ups_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", name=op.f("pk_sign_ups")),
    )
    op.create_index(op.f("ix_sign_ups_requested_at"), "sign_ups", ["requested_at"])
    op.create_table(
        "rate_limit_buckets",
        sa.Column("limit_name", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("limit_name", "key_hash", name=op.f("pk_rate_limit_buckets")),
    )
    op.create_index(
        "ix_rate_limit_buckets_refilled", "rate_limit_buckets", ["limit_name", "refilled_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_rate_limit_buckets_refilled", table_name="rate_limit_buckets")
    op.drop_table("rate_limit_buckets")
    op.drop_index(op.f("ix_sign_ups_requested_at"), table_name="sign_ups")
    op.drop_table("sign_ups")
