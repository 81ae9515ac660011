"""subscriber consent details, soft-bounce count, suppression list with salted hashes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_text_version", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("consent_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("email_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("soft_bounces", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_subscribers_email_hash"), ["email_hash"])
    op.create_table(
        "suppressions",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_suppressions")),
    )
    salt_table = op.create_table(
        "store_salt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_salt")),
    )
    salt = secrets.token_hex(32)
    op.bulk_insert(salt_table, [{"id": 1, "salt": salt}])
    # Existing subscribers get their hash here, as `subscribers.suppression.email_hash` makes it.
    connection = op.get_bind()
    subscribers = sa.table(
        "subscribers", sa.column("id", sa.Integer), sa.column("email"), sa.column("email_hash")
    )
    for row in connection.execute(sa.select(subscribers.c.id, subscribers.c.email)).all():
        digest = hmac.new(salt.encode(), row.email.encode(), hashlib.sha256).hexdigest()
        connection.execute(
            sa.update(subscribers).where(subscribers.c.id == row.id).values(email_hash=digest)
        )


def downgrade() -> None:
    op.drop_table("store_salt")
    op.drop_table("suppressions")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscribers_email_hash"))
        batch_op.drop_column("soft_bounces")
        batch_op.drop_column("email_hash")
        batch_op.drop_column("consent_ip")
        batch_op.drop_column("consent_text_version")
