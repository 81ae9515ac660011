"""The double opt-in as a state machine in the database, as Mailman keeps pending requests.

A sign-up from the form is kept in `sign_ups` with a random nonce that its confirmation
link carries, apart from the subscriber's record: an unsubscribed reader's topics and
consent stay as they were until the link's button is pressed. Pressing it applies the
sign-up and deletes it, so a link works once, and a later sign-up (a new nonce) is never
confirmed by an older link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from subscribers import store, suppression
from subscribers.schema import sign_ups

# The states a sign-up may be asked for in; a bounced or complained address is never mailed.
MAY_SIGN_UP = ("pending", "unsubscribed")

LinkState = Literal["waiting", "already active", "used"]
Confirmed = Literal["confirmed", "already active", "used"]


@dataclass(frozen=True)
class SignUp:
    """What the form asked for, and when and from where."""

    name: str
    locale: str
    topics: tuple[str, ...]
    text_version: str | None
    ip: str | None
    at: datetime
    stats_text_version: str | None = None
    """The version of the personalised statistics text, when its box was ticked."""
    source: str = "form"
    """Where it came from: the form, or `api:<token name>`; the confirmed consent's source."""


def request(
    connection: sa.Connection,
    subscriber: store.Subscriber,
    sign_up: SignUp,
    resend_after: timedelta,
) -> str | None:
    """Keep the sign-up under a new nonce, replacing an older one; returns the nonce.

    None (send nothing) while the last sign-up is more recent than `resend_after`, so a
    flood of sign-ups for one address sends one mail. The replacement is one conditional
    UPDATE and the first one an INSERT under the primary key, so two sign-ups at the same
    moment keep one and send one mail.
    """
    nonce = secrets.token_urlsafe(16)
    values = {
        "nonce": nonce,
        "name": sign_up.name,
        "locale": sign_up.locale,
        "topics": list(sign_up.topics),
        "consent_text_version": sign_up.text_version,
        "stats_consent_text_version": sign_up.stats_text_version,
        "ip": sign_up.ip,
        "source": sign_up.source,
        "requested_at": sign_up.at,
    }
    replaced = connection.execute(
        sa.update(sign_ups)
        .where(
            sign_ups.c.subscriber_id == subscriber.id,
            sign_ups.c.requested_at <= sign_up.at - resend_after,
        )
        .values(**values)
    )
    if replaced.rowcount == 0:
        if _pending(connection, subscriber.id) is not None:
            return None
        try:
            with connection.begin_nested():
                connection.execute(
                    sa.insert(sign_ups).values(subscriber_id=subscriber.id, **values)
                )
        except sa.exc.IntegrityError:
            return None
    cause = f"sign-up ({sign_up.source}) waiting for its opt-in"
    store.log_event(connection, subscriber.id, subscriber.state, cause)
    return nonce


def _pending(
    connection: sa.Connection, subscriber_id: int, nonce: str | None = None
) -> sa.Row[tuple[object, ...]] | None:
    query = sa.select(sign_ups).where(sign_ups.c.subscriber_id == subscriber_id)
    if nonce is not None:
        query = query.where(sign_ups.c.nonce == nonce)
    return connection.execute(query).first()


def link_state(connection: sa.Connection, subscriber_id: int, nonce: str) -> LinkState:
    """Whether the link's sign-up still waits; else whether its reader is active anyway
    (the link was used) or not (used, or replaced by a later sign-up)."""
    if _pending(connection, subscriber_id, nonce) is not None:
        return "waiting"
    subscriber = store.get(connection, subscriber_id)
    return "already active" if subscriber is not None and subscriber.state == "active" else "used"


def waiting_name(connection: sa.Connection, subscriber_id: int, nonce: str) -> str | None:
    """The name typed into the link's sign-up form, while that sign-up waits."""
    row = _pending(connection, subscriber_id, nonce)
    return None if row is None else str(row._mapping["name"])


def link_locale(connection: sa.Connection, subscriber_id: int, nonce: str) -> str | None:
    """The language the link's sign-up chose while it waits, else its reader's own."""
    row = _pending(connection, subscriber_id, nonce)
    if row is not None:
        return str(row._mapping["locale"])
    subscriber = store.get(connection, subscriber_id)
    return None if subscriber is None else subscriber.locale


def confirm(
    connection: sa.Connection,
    subscriber_id: int,
    nonce: str,
    at: datetime,
    ip: str | None,
    name: str,
) -> Confirmed:
    """Apply the link's sign-up: its topics and language, `name` as the reader confirmed it
    (anyone may have typed the form's), and consent given at `at` from `ip`. The sign-up is
    deleted first, so two presses at once confirm once.

    Its answer to personalised statistics replaces the record's too: a box left unticked
    on a new sign-up withdraws an older consent (the caller anonymises what named them).
    """
    row = _pending(connection, subscriber_id, nonce)
    subscriber = store.get(connection, subscriber_id)
    if row is None or subscriber is None:
        state = link_state(connection, subscriber_id, nonce)
        return "used" if state == "waiting" else state
    taken = connection.execute(
        sa.delete(sign_ups).where(
            sign_ups.c.subscriber_id == subscriber_id, sign_ups.c.nonce == nonce
        )
    )
    if taken.rowcount != 1 or subscriber.state not in MAY_SIGN_UP:
        return "used"
    reason = suppression.reason_for(connection, subscriber.email)
    if reason is not None:
        if reason not in suppression.LIFTED_BY_OPT_IN:
            return "used"
        # A new, confirmed opt-in is the one thing that may lift an erasure's suppression.
        suppression.lift(connection, subscriber.email)
    signed_up = row._mapping
    source = signed_up["source"]
    how = "sign-up form" if source == "form" else f"sign-up through the API ({source})"
    consent = store.Consent(
        source,
        f"{how} of {signed_up['requested_at']:%Y-%m-%d %H:%M} UTC from "
        f"{signed_up['ip'] or 'unknown'}, confirmed by the button of its mailed link",
        at,
        text_version=signed_up["consent_text_version"],
        ip=ip,
    )
    store.apply_opt_in(
        connection,
        subscriber_id,
        name=name,
        locale=signed_up["locale"],
        topics=signed_up["topics"],
        consent=consent,
    )
    stats_version = signed_up["stats_consent_text_version"]
    if stats_version is not None:
        store.give_stats_consent(connection, subscriber_id, at, stats_version, how)
    else:
        store.withdraw_stats_consent(connection, subscriber_id, "a new sign-up without it")
    return "confirmed"


def forget_expired(connection: sa.Connection, before: datetime) -> None:
    """Sign-ups whose link has expired can never be confirmed: nothing is kept of them."""
    connection.execute(sa.delete(sign_ups).where(sign_ups.c.requested_at < before))
