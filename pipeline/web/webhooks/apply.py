"""Apply a verified webhook request: one transaction for the whole request.

The signature's one-time token (Mailgun's) is noted in the same transaction that applies
the events, so a request that fails half-way leaves no token behind and the service's
retry is accepted. Each event gets a savepoint: one invalid address spoils no other.
Old tokens and event ids are pruned first, cheaply (both are indexed by time), which
also opens SQLite's write transaction before the first savepoint (pysqlite would
otherwise commit a savepoint opened first on its own).
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from pipeline.db import webhook_events, webhook_tokens
from pipeline.send.events import find_delivery, record_event
from pipeline.send.reader_changes import SoftBounceRule, bounce_reported
from pipeline.web.context import WebContext
from pipeline.web.webhooks.common import (
    EVENT_IDS_KEPT,
    REPLAY_WINDOW,
    BounceEvent,
    SignedToken,
    Verified,
)
from subscribers.addresses import InvalidAddress

log = logging.getLogger(__name__)


class TokenUsed(Exception):
    """The signature's token was used before: a replay, perhaps with forged events."""


def apply_verified(context: WebContext, provider: str, verified: Verified) -> int:
    """Record each event once; returns how many were applied (not repeats, not invalid
    addresses). Raises TokenUsed, changing nothing, when the token was seen before."""
    at = context.clock()
    applied = 0
    with context.engine.begin() as connection:
        prune(connection, at)
        if verified.token is not None:
            note_token(connection, provider, verified.token)
        for event in verified.events:
            try:
                with connection.begin_nested():
                    if apply_event(context, connection, provider, event, at):
                        applied += 1
            except InvalidAddress:
                log.warning("webhook %s: an event for an invalid address skipped", provider)
    return applied


def apply_event(
    context: WebContext,
    connection: sa.Connection,
    provider: str,
    event: BounceEvent,
    at: datetime,
) -> bool:
    if not first_delivery(connection, provider, event, at):
        return False
    rule = SoftBounceRule.of(context.config.subscriptions)
    found, _state = bounce_reported(connection, event.email, event.kind, event.detail, rule)
    if found is None:
        return True
    delivery_id = find_delivery(connection, found.id, event.delivery_key, event.message_id)
    if delivery_id is not None:
        record_event(connection, delivery_id, provider, event.kind, event.detail, at)
    return True


def note_token(connection: sa.Connection, provider: str, token: SignedToken) -> None:
    try:
        with connection.begin_nested():
            connection.execute(
                sa.insert(webhook_tokens).values(
                    provider=provider, token=token.value, signed_at=token.signed_at
                )
            )
    except sa.exc.IntegrityError as exc:
        raise TokenUsed("this signature was used before: refused as a replay") from exc


def first_delivery(
    connection: sa.Connection, provider: str, event: BounceEvent, at: datetime
) -> bool:
    """Note the event's id; False when it was noted before (the service sent it again)."""
    if event.event_id is None:
        return True
    try:
        with connection.begin_nested():
            connection.execute(
                sa.insert(webhook_events).values(
                    provider=provider, event_id=event.event_id, received_at=at
                )
            )
    except sa.exc.IntegrityError:
        log.info("webhook %s: event %s was applied before", provider, event.event_id)
        return False
    return True


def prune(connection: sa.Connection, at: datetime) -> None:
    """Forget tokens older than the replay window (their signatures are refused as stale
    anyway) and event ids older than any service's redelivery."""
    # Tokens signed up to REPLAY_WINDOW in the future pass the freshness check too.
    connection.execute(
        sa.delete(webhook_tokens).where(webhook_tokens.c.signed_at < at - REPLAY_WINDOW)
    )
    connection.execute(
        sa.delete(webhook_events).where(webhook_events.c.received_at < at - EVENT_IDS_KEPT)
    )
