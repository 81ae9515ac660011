"""The subscriber tables. The pipeline's tables join this same MetaData."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and read back time-zone aware, on SQLite as on PostgreSQL.

    SQLite keeps no zone: without this, an event at 18:00 Berlin time would come back as
    18:00 UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# `api:` and a token's name (api_tokens.name, at most 100).
CONSENT_SOURCE_LENGTH = 104

SUBSCRIBER_STATES = ("pending", "active", "unsubscribed", "bounced", "complained")

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("locale", sa.String(8), nullable=False, server_default="de"),
    sa.Column("topics", sa.JSON, nullable=False, default=list),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending", index=True),
    sa.Column("consent_at", UtcDateTime()),
    # form, import, admin, or api:<token name> for a sign-up through the API.
    # SQLite enforces no length and keeps the old one (a table copy would trip the foreign
    # keys pointing here): migration 0020 widens PostgreSQL's alone.
    sa.Column(
        "consent_source",
        sa.String(16).with_variant(sa.String(CONSENT_SOURCE_LENGTH), "postgresql"),
    ),
    sa.Column("consent_detail", sa.String(400)),
    sa.Column("consent_text_version", sa.String(40)),
    sa.Column("consent_ip", sa.String(45)),
    # The separate, optional consent to personalised statistics (clicks kept per reader);
    # NULL when not given or withdrawn.
    sa.Column("stats_consent_at", UtcDateTime()),
    sa.Column("stats_consent_text_version", sa.String(40)),
    sa.Column("email_hash", sa.String(64), index=True),
    # Soft bounces within `soft_bounce_days` as of the last one (soft_bounce_events has each).
    sa.Column("soft_bounces", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # Signed links carry the id: an erased reader's id must never go to someone else.
    sqlite_autoincrement=True,
)

subscriber_events = sa.Table(
    "subscriber_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("cause", sa.String(400), nullable=False),
    # The issue whose link caused the change (an unsubscribe), for its report; no foreign
    # key, as the subscriber store knows nothing of the pipeline's tables.
    sa.Column("issue_id", sa.Integer),
    sa.Index("ix_subscriber_events_issue_state", "issue_id", "state"),
)

# Each soft bounce of a reader and when it came: `subscriptions.soft_bounce_limit` counts
# those within `soft_bounce_days`, whether a webhook or the bounce mailbox reported them.
soft_bounce_events = sa.Table(
    "soft_bounce_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_soft_bounce_events_subscriber_at", "subscriber_id", "at"),
)

# The addresses that must never be mailed again, kept only as salted hashes so that an
# erased person's address is not stored, yet a later import of it is still recognised.
suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("email_hash", sa.String(64), primary_key=True),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
)

# One row: the salt of the suppression hashes, made at random when the table is created.
store_salt = sa.Table(
    "store_salt",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("salt", sa.String(64), nullable=False),
)

# A sign-up from the form waiting for its confirmation, kept apart from the subscriber's
# own record until the button behind the mailed link is pressed. One a subscriber: a later
# sign-up replaces it, with a new nonce, so the older link stops working.
sign_ups = sa.Table(
    "sign_ups",
    metadata,
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("nonce", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("locale", sa.String(8), nullable=False),
    sa.Column("topics", sa.JSON, nullable=False),
    sa.Column("consent_text_version", sa.String(40)),
    # Set when the optional personalised statistics box was ticked on the form.
    sa.Column("stats_consent_text_version", sa.String(40)),
    sa.Column("ip", sa.String(45)),
    # Where it came from, the confirmed consent's source: `form`, or `api:<token name>`.
    sa.Column("source", sa.String(CONSENT_SOURCE_LENGTH), nullable=False, server_default="form"),
    sa.Column("requested_at", UtcDateTime(), nullable=False, index=True),
)
