"""reach: each issue's tracked links, clicks and opens, the optional consent to
personalised statistics, and the issue an unsubscribe came from

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("variant_no", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_issue_links_issue_id_issues")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_issue_links_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue_links")),
        sa.UniqueConstraint("issue_id", "variant_no", "position", name="uq_issue_links_position"),
    )
    op.create_table(
        "clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("machine", sa.String(length=16), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_clicks_issue_id_issues")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["issue_links.id"], name=op.f("fk_clicks_link_id_issue_links")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_clicks_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
    )
    op.create_index("ix_clicks_issue_link", "clicks", ["issue_id", "link_id"])
    op.create_index("ix_clicks_clicked_at", "clicks", ["clicked_at"])
    op.create_index(op.f("ix_clicks_subscriber_id"), "clicks", ["subscriber_id"])
    op.create_table(
        "opens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("variant_no", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("machine", sa.String(length=16), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_opens_issue_id_issues")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_opens_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opens")),
    )
    op.create_index(op.f("ix_opens_issue_id"), "opens", ["issue_id"])
    op.create_index("ix_opens_opened_at", "opens", ["opened_at"])
    op.create_index(op.f("ix_opens_subscriber_id"), "opens", ["subscriber_id"])
    op.add_column(
        "subscribers", sa.Column("stats_consent_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "subscribers",
        sa.Column("stats_consent_text_version", sa.String(length=40), nullable=True),
    )
    op.add_column(
        "sign_ups", sa.Column("stats_consent_text_version", sa.String(length=40), nullable=True)
    )
    # Unsubscribes before this name no issue: their reports count none.
    op.add_column("subscriber_events", sa.Column("issue_id", sa.Integer(), nullable=True))
    op.create_index("ix_subscriber_events_issue_state", "subscriber_events", ["issue_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_subscriber_events_issue_state", table_name="subscriber_events")
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as in 0015.
    op.execute("ALTER TABLE subscriber_events DROP COLUMN issue_id")
    op.execute("ALTER TABLE sign_ups DROP COLUMN stats_consent_text_version")
    op.execute("ALTER TABLE subscribers DROP COLUMN stats_consent_text_version")
    op.execute("ALTER TABLE subscribers DROP COLUMN stats_consent_at")
    op.drop_table("opens")
    op.drop_table("clicks")
    op.drop_table("issue_links")
