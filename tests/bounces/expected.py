"""What each bounce fixture is, for this suite and the mailbox's end-to-end test.

Loaded with a valid token (fixtures.bounce_for), each fixture must classify as its kind
here; `STATUS` holds the status code where the message gives one. forged-token and
no-token-body-address carry no valid token whatever token is passed: they name nobody.
"""

from __future__ import annotations

EXPECTED: dict[str, str] = {
    "rfc3464-hard": "hard",
    "rfc3464-soft": "soft",
    "postfix-hard": "hard",
    "exim-hard": "hard",
    "qmail-hard": "hard",
    "exchange-ndr": "hard",
    "exchange-online": "hard",
    "gmail-hard": "hard",
    "gmx-hard": "hard",
    "webde-hard": "hard",
    "t-online-de": "hard",
    "block-571": "block",
    "yahoo-arf": "complaint",
    "microsoft-jmrp": "complaint",
    "ooo-de": "auto_reply",
    "ooo-en": "auto_reply",
    "mailto-unsubscribe": "unsubscribe",
    "reader-reply": "reply",
    "forged-token": "unrecognised",
    "no-token-body-address": "unrecognised",
}

STATUS: dict[str, str | None] = {
    "rfc3464-hard": "5.1.1",
    "rfc3464-soft": "4.2.2",
    "postfix-hard": "5.1.1",
    "exim-hard": "5.1.1",
    "qmail-hard": None,
    "exchange-ndr": None,
    "exchange-online": "5.1.10",
    "gmail-hard": "5.1.0",
    "gmx-hard": "5.1.1",
    "webde-hard": "550",
    "t-online-de": None,
    "block-571": "5.7.1",
    "yahoo-arf": None,
    "microsoft-jmrp": None,
    "ooo-de": None,
    "ooo-en": None,
    "mailto-unsubscribe": None,
    "reader-reply": None,
    "forged-token": "5.1.1",
    "no-token-body-address": "5.1.1",
}

NAMES_NOBODY = frozenset({"forged-token", "no-token-body-address"})
