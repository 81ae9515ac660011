"""The database: engine, tables, and the schema-version gate.

Tables are SQLAlchemy Core; Alembic (pipeline/migrations) creates and migrates them.
Every command but `db upgrade` refuses to run on an out-of-date schema.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pipeline import files
from pipeline.errors import ConfigError, SchemaOutOfDate
from subscribers.schema import UtcDateTime, metadata, subscribers

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "api_idempotency",
    "api_tokens",
    "bounce_mailboxes",
    "bounce_messages",
    "deliveries",
    "delivery_events",
    "feeds",
    "issue_items",
    "issue_variants",
    "issues",
    "items",
    "metadata",
    "rate_budgets",
    "rate_limit_buckets",
    "webhook_events",
    "webhook_tokens",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

ITEM_STATES = (
    "submitted", "draft", "queued", "held", "approved", "sent", "dropped", "expired",
)  # fmt: skip

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(1000), nullable=False, unique=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("body_html", sa.Text, nullable=False, server_default=""),
    sa.Column("link", sa.String(2000)),
    sa.Column("image", sa.String(2000)),
    sa.Column("image_alt", sa.String(500)),
    sa.Column("topics", sa.JSON, nullable=False, default=list),
    sa.Column("published_at", UtcDateTime(), nullable=False),
    sa.Column("event_start", UtcDateTime()),
    sa.Column("event_end", UtcDateTime()),
    sa.Column("event_location", sa.String(500)),
    sa.Column("event_online_url", sa.String(2000)),
    sa.Column("event_all_day", sa.Boolean, nullable=False, server_default=sa.false()),
    # A sent event moved or cancelled in its calendar since: "moved" (event_start and
    # event_end hold the new times) or "cancelled"; the issue that told the readers so.
    sa.Column("correction", sa.String(16)),
    sa.Column("correction_issue_id", sa.Integer),
    sa.Column("publish_after", UtcDateTime()),
    sa.Column("expires", UtcDateTime()),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id")),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # Dedup: the same story from two sources is one item (see pipeline/queue/dedup.py).
    sa.Column("categories", sa.JSON, nullable=False, default=list),
    sa.Column("url_key", sa.String(2000), index=True),
    sa.Column("title_key", sa.String(500), index=True),
    sa.Column("duplicate_of", sa.Integer, sa.ForeignKey("items.id")),
    # The state an editor dropped the item from (`queue drop`, the desk); NULL for items
    # dedup set aside or whose file is gone. Only these can be restored.
    sa.Column("dropped_from", sa.String(16)),
    # The partner a submission (`submit:` item) came from; NULL for the public form's.
    sa.Column("partner_id", sa.Integer),
    # When the partner was mailed that the issue carrying their submission went out.
    sa.Column("partner_told_at", UtcDateTime()),
)

# Partners who send news in through their personal link (`newsletter partners add`).
partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("email", sa.String(320), nullable=False),
    # Signed into the partner's link: a new one, or revoked_at, stops the old link at once.
    sa.Column("nonce", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime()),
)

# API tokens (`newsletter api tokens`): only a token's SHA-256 is kept, never the token.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # Space-separated, from pipeline.api_tokens.SCOPES.
    sa.Column("scopes", sa.String(500), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_used_at", UtcDateTime()),
    sa.Column("revoked_at", UtcDateTime()),
)

# The first answer to a POST with an Idempotency-Key, per token, kept 24 hours: the same
# key and body get it again; the same key with another body is refused.
api_idempotency = sa.Table(
    "api_idempotency",
    metadata,
    sa.Column("token_id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("location", sa.String(500)),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_api_idempotency_created", "created_at"),
)

# One row per configured feed or page: conditional-GET validators and its health.
feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("last_checked_at", UtcDateTime()),
    sa.Column("last_success_at", UtcDateTime()),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", UtcDateTime()),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("items_found", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retry_after", UtcDateTime()),
    sa.Column("gone_at", UtcDateTime()),
)

ISSUE_STATES = ("sending", "sent")

issues = sa.Table(
    "issues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False, unique=True),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime()),
)

issue_items = sa.Table(
    "issue_items",
    metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

# The issue as rendered once per variant (locale): sends and resumes use exactly this.
issue_variants = sa.Table(
    "issue_variants",
    metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("variant", sa.String(100), primary_key=True),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

DELIVERY_STATES = ("pending", "sending", "sent", "failed", "cancelled", "unsettled")

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey(subscribers.c.id), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("provider_message_id", sa.String(300)),
    sa.Column("error", sa.Text),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # Who holds a row in "sending", and until when: live workers leave each other's rows
    # alone until the lease expires; `send --resume` takes them over at once.
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", UtcDateTime()),
    sa.UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_subscriber"),
    # Claims read the next pending rows in id order without sorting the whole issue; every
    # query by issue and state uses it too.
    sa.Index("ix_deliveries_claim", "issue_id", "state", "id"),
    # An unsubscribe cancels the reader's pending deliveries of every issue.
    sa.Index("ix_deliveries_subscriber", "subscriber_id"),
)

# The provider's rate budget of one send, shared by every process sending it: a token
# bucket whose level and last refill (Unix seconds) change in one UPDATE per reservation.
rate_budgets = sa.Table(
    "rate_budgets",
    metadata,
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("refilled_at", sa.Float, nullable=False),
)


def dialect_insert(connection: sa.Connection) -> Callable[[sa.Table], Any]:
    """The INSERT of the connection's dialect, the one with ON CONFLICT clauses."""
    # Imported here: a command that writes no upsert need not load the dialects' modules.
    from sqlalchemy.dialects import postgresql, sqlite

    insert: Callable[[sa.Table], Any] = (
        postgresql if connection.dialect.name == "postgresql" else sqlite
    ).insert
    return insert


def now() -> datetime:
    return datetime.now(UTC)


SQLITE_NEEDED = (3, 35)
"""RETURNING (3.35) for claims; UPDATE ... FROM and json_each (3.33) for recording."""


# How long a command waits on SQLite for another process's write lock before giving up.
BUSY_TIMEOUT_S = 30.0


MAX_ROW_ID = 2**31 - 1
"""The largest id an `sa.Integer` column holds on both engines (PostgreSQL's is 32-bit):
an id from a URL or a form above it names no row, and must not reach a query."""


def make_engine(url: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> sa.Engine:
    if url.startswith("sqlite"):
        if sqlite3.sqlite_version_info < SQLITE_NEEDED:
            needed = ".".join(map(str, SQLITE_NEEDED))
            raise ConfigError(
                f"database.url: SQLite {sqlite3.sqlite_version} is too old; the ledger needs "
                f"{needed} or newer (or use PostgreSQL)"
            )
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_s})
        path = sqlite_file(engine)
        if path is not None:
            files.create_private(path)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def sqlite_file(engine: sa.Engine) -> Path | None:
    """The SQLite database file, None for PostgreSQL, `:memory:` and URI file names."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or engine.url.query.get("uri"):
        return None
    return Path(database)


def sqlite_files(engine: sa.Engine) -> list[Path]:
    """The database file and the -wal and -shm beside it (those that are there or not)."""
    path = sqlite_file(engine)
    return [] if path is None else [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with NORMAL survives a killed process; only power loss may undo the last commits.
    # Claims of the ledger commit with FULL (see pipeline/send/ledger.py), which also
    # makes every earlier commit durable.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# The revision ids before they were renumbered so that the files sort in apply order; a
# database stamped with one is re-stamped with its new id before migrating on.
RENAMED_REVISIONS = {
    "0002c": "0002",
    "0002e": "0003",
    "0002a": "0004",
    "0002d": "0005",
    "0002f": "0006",
    "0003a": "0007",
    "0004a": "0008",
    "0005a": "0009",
}


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Apply every pending migration; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    config = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if before in RENAMED_REVISIONS:
            connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
                {"new": RENAMED_REVISIONS[before], "old": before},
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


_VERSION_TABLE = sa.table("alembic_version", sa.column("version_num", sa.String))
_REVISION = re.compile(r"""^(down_revision|revision)\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def head_revision() -> str:
    """The revision no migration follows, read from the migrations' own `revision` and
    `down_revision` lines: checking a schema need not load Alembic (a third of a short
    command's start-up). A test holds it equal to Alembic's head."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text("utf-8")
        found: dict[str, str] = {match[1]: match[2] for match in _REVISION.finditer(text)}
        if "revision" in found:
            revisions.add(found["revision"])
        if "down_revision" in found:
            followed.add(found["down_revision"])
    heads = revisions - followed
    assert len(heads) == 1, f"pipeline/migrations has {len(heads)} heads: {sorted(heads)}"
    return heads.pop()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is stamped with (Alembic's version table), None if none."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(_VERSION_TABLE.name):
            return None
        stamped = connection.execute(sa.select(_VERSION_TABLE.c.version_num)).scalars()
        return ", ".join(sorted(stamped)) or None


def require_current_schema(engine: sa.Engine) -> None:
    current = current_revision(engine)
    if current != head_revision():
        state = "has no tables yet" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"the database {state}, the code needs {head_revision()}: "
            "run `newsletter db upgrade` first"
        )


# The daemon's leader lock, as seen by `status`. On SQLite the row is the lock (a lease);
# on PostgreSQL an advisory lock excludes and the row only tells who holds it.
daemon_locks = sa.Table(
    "daemon_locks",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("acquired_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

# What the scheduler did or refused to do, for `status` and for operators reading logs later.
schedule_events = sa.Table(
    "schedule_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("job", sa.String(50), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_schedule_events_job_at", "job", "at"),
)

# APScheduler's SQLAlchemy job store table, created here so migrations own the schema.
scheduler_jobs = sa.Table(
    "scheduler_jobs",
    metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)

# Magic sign-in links of the editors' desk that have been used: each works once.
desk_used_links = sa.Table(
    "desk_used_links",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("used_at", UtcDateTime(), nullable=False),
)

# Desk sessions, kept on the server so that signing out, signing out everywhere and an
# editor's removal from `editors:` end them. The cookie holds the signed session id; the
# table holds only its hash, so a copy of the database opens no session.
desk_sessions = sa.Table(
    "desk_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("editor", sa.String(320), nullable=False, index=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("user_agent", sa.String(120), nullable=False),
)

# Bounce and complaint events already applied, by the mail service's own id: services
# deliver a webhook again when they are unsure it arrived, and a soft bounce counted twice
# would suppress a reader early. Only bounces and complaints are kept, a few rows an issue.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("provider", sa.String(16), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    # Pruned by age at each webhook request.
    sa.Index("ix_webhook_events_received_at", "received_at"),
)

# One-time tokens of webhook signatures that do not cover the events (Mailgun's), kept
# for the replay window: a token seen again is a replay with forged events.
webhook_tokens = sa.Table(
    "webhook_tokens",
    metadata,
    sa.Column("provider", sa.String(16), primary_key=True),
    sa.Column("token", sa.String(200), primary_key=True),
    sa.Column("signed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_webhook_tokens_signed_at", "signed_at"),
)

# What the mail service said of a delivery after the send (a bounce, a complaint), from
# the webhook event that names the delivery: what per-issue reports read.
delivery_events = sa.Table(
    "delivery_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "delivery_id",
        sa.Integer,
        # An erased reader's deliveries go, and what was said of them with them.
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
)

# The web's rate limits, shared by every `serve` process: a token bucket per limit and key
# (a network or an address, kept as a hash), changed in one upsert per request. A row
# whose last refill is older than its window is full again, so it is deleted.
rate_limit_buckets = sa.Table(
    "rate_limit_buckets",
    metadata,
    sa.Column("limit_name", sa.String(32), primary_key=True),
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("refilled_at", sa.Float, nullable=False),
    sa.Index("ix_rate_limit_buckets_refilled", "limit_name", "refilled_at"),
)

# Every message read from the bounce mailbox, once: the row is its claim, inserted in the
# transaction that applies its verdict, so two readers of one mailbox never apply a
# message twice. Keyed by the mailbox, the message's UID (IMAP, `uidvalidity/uid`) or
# UIDL (POP3), and its Message-ID (or a hash of its bytes when it has none).
bounce_messages = sa.Table(
    "bounce_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mailbox", sa.String(400), nullable=False),
    sa.Column("claim_key", sa.String(300), nullable=False),
    sa.Column("uid", sa.String(100), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("processed_at", UtcDateTime(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column(
        "delivery_id",
        sa.Integer,
        # An erased reader's deliveries go, and the mails that came back about them.
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("status", sa.String(16)),
    sa.Column("diagnostic", sa.Text, nullable=False, server_default=""),
    sa.Column("detector", sa.String(64), nullable=False, server_default=""),
    # Where the message went: `processed`, `unrecognised` (named no delivery of ours), or
    # `kept` (a reply left unread in the folder).
    sa.Column("filed", sa.String(16), nullable=False),
    sa.Column("action", sa.Text, nullable=False, server_default=""),
    # The message as it came; set to NULL after `bounces.keep_days`.
    sa.Column("raw", sa.LargeBinary),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("mailbox", "uid", "claim_key", name="uq_bounce_messages_claim"),
    sa.Index("ix_bounce_messages_processed_at", "processed_at"),
)

# Each link an issue's variant tracks, numbered within the variant: `/r/<token>.<position>`
# finds its destination here, never in the request. `variant_no` is the variant's number
# within the issue, which the click token carries instead of its key.
issue_links = sa.Table(
    "issue_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    sa.Column("variant_no", sa.Integer, nullable=False),
    sa.Column("variant", sa.String(100), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id")),
    # `link` (the item's own link and "read more"), `online` (an event's meeting), `calendar`.
    sa.Column("kind", sa.String(16), nullable=False),
    sa.UniqueConstraint("issue_id", "variant_no", "position", name="uq_issue_links_position"),
)

# One row a counted click. Anonymous unless the reader agreed to personalised statistics
# (then `subscriber_id`, cleared after `analytics.retention_days`). `machine` says why a
# click was a link scanner's (head, early, sweep, crowd, agent); NULL for a reader's.
clicks = sa.Table(
    "clicks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("issue_links.id"), nullable=False),
    sa.Column("clicked_at", UtcDateTime(), nullable=False),
    sa.Column("machine", sa.String(16)),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey(subscribers.c.id, ondelete="CASCADE"),
        index=True,
    ),
    sa.Index("ix_clicks_issue_link", "issue_id", "link_id"),
    sa.Index("ix_clicks_clicked_at", "clicked_at"),
)

# One row a counted load of an issue's 1x1 image (`analytics.opens`), as clicks are kept.
opens = sa.Table(
    "opens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False, index=True),
    sa.Column("variant_no", sa.Integer, nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("machine", sa.String(16)),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey(subscribers.c.id, ondelete="CASCADE"),
        index=True,
    ),
    sa.Index("ix_opens_opened_at", "opened_at"),
)

# The bounce mailbox's health for `status`: when it was last read, and the last error.
bounce_mailboxes = sa.Table(
    "bounce_mailboxes",
    metadata,
    sa.Column("mailbox", sa.String(400), primary_key=True),
    sa.Column("last_read_at", UtcDateTime()),
    sa.Column("last_success_at", UtcDateTime()),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_at", UtcDateTime()),
)
