"""subscriber ids are never reused on SQLite

Links in mails carry a subscriber id, signed. SQLite hands the highest id out again after
that row is deleted (a GDPR erase), so an erased reader's old unsubscribe link would act
on whoever signed up next. AUTOINCREMENT makes SQLite never reuse an id; PostgreSQL's
sequences never do.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:35:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "subscribers", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("subscribers", recreate="always"):
        pass
