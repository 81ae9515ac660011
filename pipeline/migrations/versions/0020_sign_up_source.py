"""sign_ups.source (the form, or `api:<token name>`) carried into the confirmed consent's
consent_source, which grows to hold a token's name

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A sign-up waiting before this came from the form: the API stored none.
    op.add_column(
        "sign_ups",
        sa.Column("source", sa.String(length=104), nullable=False, server_default="form"),
    )
    # SQLite keeps no length, and a batch copy of `subscribers` would trip the foreign
    # keys that point at it: only PostgreSQL's column changes.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "subscribers",
            "consent_source",
            type_=sa.String(length=104),
            existing_type=sa.String(length=16),
            existing_nullable=True,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        # An API source does not fit the old width: its category stays.
        op.execute(
            "UPDATE subscribers SET consent_source = 'api' WHERE length(consent_source) > 16"
        )
        op.alter_column(
            "subscribers",
            "consent_source",
            type_=sa.String(length=16),
            existing_type=sa.String(length=104),
            existing_nullable=True,
        )
    op.execute("ALTER TABLE sign_ups DROP COLUMN source")
