"""feeds' health and conditional-GET state; item dedup keys and categories

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("items_found", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("url", name=op.f("uq_feeds_url")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("categories", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("url_key", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("title_key", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_items_url_key"), ["url_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_title_key"), ["title_key"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_items_duplicate_of_items"), "items", ["duplicate_of"], ["id"]
        )
    op.execute("UPDATE items SET categories = '[]' WHERE categories IS NULL")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column("categories", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_items_duplicate_of_items"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_items_title_key"))
        batch_op.drop_index(batch_op.f("ix_items_url_key"))
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("title_key")
        batch_op.drop_column("url_key")
        batch_op.drop_column("categories")
    op.drop_table("feeds")
