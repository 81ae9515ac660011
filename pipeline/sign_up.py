"""The start of a double opt-in, shared by the sign-up form and `POST /api/v1/subscribers`.

Nothing of an existing subscriber's record changes here: the sign-up waits apart (see
`subscribers.sign_ups`) until its mailed link's button is pressed. Whether a mail goes
out is decided here too, so the form and the API send as few as each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.tokens import SecretKeys, make_confirm_token
from subscribers import sign_ups, store, suppression

log = logging.getLogger(__name__)
# A pending address gets another confirmation mail at most this often, whoever asks.
RESEND_AFTER = timedelta(minutes=15)
MailShare = Callable[[sa.Connection, str], int | None]
"""Takes one mail from the address's share inside the transaction: None when allowed."""


@dataclass(frozen=True)
class Started:
    subscriber: store.Subscriber | None
    """The record the sign-up waits on; None for a suppressed address never in the store."""
    confirm_url: str | None
    """The link to mail, or None when no mail goes out (active, suppressed, sent lately)."""


def stats_asked(config: Config) -> bool:
    """Personalised statistics are asked for only while something would be counted."""
    return config.analytics.clicks or config.analytics.opens


def start_sign_up(
    engine: sa.Engine,
    config: Config,
    secret_key: SecretKeys,
    email: str,
    sign_up: sign_ups.SignUp,
    mail_share: MailShare,
) -> Started:
    """Keep the sign-up of the normalised `email` until confirmed, and say what to mail."""
    max_age = timedelta(days=config.subscriptions.confirm_expiry_days)
    try:
        with engine.begin() as connection:
            sign_ups.forget_expired(connection, sign_up.at - max_age)
            found = store.find(connection, email)
            if found is None:
                reason = suppression.reason_for(connection, email)
                if reason is not None and reason not in suppression.LIFTED_BY_OPT_IN:
                    return Started(None, None)
            elif found.state not in sign_ups.MAY_SIGN_UP:
                return Started(found, None)
            known = found
            with connection.begin_nested() as attempt:
                if found is None:
                    # The name waits with the sign-up: the reader confirms it, or not.
                    found = store.add(
                        connection,
                        email=email,
                        name="",
                        locale=sign_up.locale,
                        topics=sign_up.topics,
                        consent=None,
                    )
                nonce = sign_ups.request(connection, found, sign_up, RESEND_AFTER)
                if nonce is None:
                    return Started(found, None)
                # Counted only for a mail about to go: whoever asks, one address gets
                # few. The answer stays the same, so it tells nobody the address is known.
                if mail_share(connection, email) is not None:
                    log.info("a confirmation mail was not sent: the address had its share")
                    attempt.rollback()
                    # A record made by this attempt went with it.
                    return Started(known, None)
    except sa.exc.IntegrityError:
        # The same new address signed up at the same moment: that sign-up sends the mail.
        with engine.connect() as connection:
            return Started(store.find(connection, email), None)
    token = make_confirm_token(secret_key, found.id, nonce)
    return Started(found, f"{config.site.url}/confirm/{token}")
