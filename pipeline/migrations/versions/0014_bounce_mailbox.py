"""the bounce mailbox: each message read (its claim), the mailbox's health; soft bounces
with their time, so the limit counts only those within `subscriptions.soft_bounce_days`

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounce_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=400), nullable=False),
        sa.Column("claim_key", sa.String(length=300), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("diagnostic", sa.Text(), server_default="", nullable=False),
        sa.Column("detector", sa.String(length=64), server_default="", nullable=False),
        sa.Column("filed", sa.String(length=16), nullable=False),
        sa.Column("action", sa.Text(), server_default="", nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_bounce_messages_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_messages")),
        sa.UniqueConstraint("mailbox", "uid", "claim_key", name="uq_bounce_messages_claim"),
    )
    op.create_index(op.f("ix_bounce_messages_delivery_id"), "bounce_messages", ["delivery_id"])
    op.create_index("ix_bounce_messages_processed_at", "bounce_messages", ["processed_at"])
    op.create_table(
        "bounce_mailboxes",
        sa.Column("mailbox", sa.String(length=400), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_bounce_mailboxes")),
    )
    # Soft bounces counted before this have no time: they are kept as the counter they
    # were, and the window counts from the next one on.
    op.create_table(
        "soft_bounce_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_soft_bounce_events_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soft_bounce_events")),
    )
    op.create_index(
        "ix_soft_bounce_events_subscriber_at", "soft_bounce_events", ["subscriber_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_soft_bounce_events_subscriber_at", table_name="soft_bounce_events")
    op.drop_table("soft_bounce_events")
    op.drop_table("bounce_mailboxes")
    op.drop_index("ix_bounce_messages_processed_at", table_name="bounce_messages")
    op.drop_index(op.f("ix_bounce_messages_delivery_id"), table_name="bounce_messages")
    op.drop_table("bounce_messages")
