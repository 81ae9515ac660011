"""One message of the bounce mailbox -> a Verdict: what it is, and whose delivery it names.

Pure: bytes in, Verdict out; no database, no network. The shapes, in the order they are
tried (the first that fits decides):

1. `unsubscribe TOKEN` sent to the bounce address: the List-Unsubscribe mailto.
2. RFC 5965 feedback report or Microsoft JMRP: a complaint (arf.py).
3. RFC 3464 delivery status notification (dsn.py).
4. A failure report by a mail system without DSN parts: flufl.bounce's detectors, then
   German and English server texts (nonstandard.py, server_texts.py).
5. An automatic reply, RFC 3834 or by its subject (auto_reply.py).
6. Anything else is a person's reply.

Identity is separate (returned.py): only signed tokens name deliveries. A failure or a
complaint that names nobody becomes `unrecognised`, for the operator to look at.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
from email.message import Message

from pipeline.bounces import arf, auto_reply, dsn, nonstandard, server_texts
from pipeline.bounces.returned import Identity, find_identity
from pipeline.bounces.unsubscribe import sent_to_bounce_address, subject_token
from pipeline.bounces.verdict import Verdict
from pipeline.tokens import SecretKeys

MAX_MESSAGE_BYTES = 2 * 1024 * 1024
"""Bytes of a message that are parsed: the report comes first, a returned 20 MB original
need not be read to its end."""

MAX_DECLARED_PARTS = 200
"""Content-Type lines beyond which a message is not parsed: a bounce has a handful."""

log = logging.getLogger(__name__)

_FAILURES = frozenset({"hard", "soft", "block", "complaint"})
INTERNAL_ERROR_NOTE = "classify failed on this message"


def classify(raw: bytes, secret_key: SecretKeys, bounce_address: str | None) -> Verdict:
    """What `raw` (one message, as the mailbox holds it) is. Never raises on any input."""
    try:
        return _classify(raw, secret_key, bounce_address)
    except Exception as exc:  # the mailbox run must go on; tests check this is never reached
        log.exception("classify failed on a message of %d bytes", len(raw))
        return Verdict(kind="unrecognised", notes=(f"{INTERNAL_ERROR_NOTE}: {type(exc).__name__}",))


def _classify(raw: bytes, secret_key: SecretKeys, bounce_address: str | None) -> Verdict:
    if not raw.strip():
        return Verdict(kind="unrecognised", notes=("an empty message",))
    notes: list[str] = []
    if len(raw) > MAX_MESSAGE_BYTES:
        raw = raw[:MAX_MESSAGE_BYTES]
        notes.append(f"read only the first {MAX_MESSAGE_BYTES // 1024} KiB")
    if raw.lower().count(b"content-type:") > MAX_DECLARED_PARTS:
        # The stdlib parser (and flufl.bounce's walk) recurse once per level of nesting: a
        # few KB of nested multiparts would cost seconds, then a RecursionError.
        return Verdict(
            kind="unrecognised", notes=(*notes, f"more than {MAX_DECLARED_PARTS} MIME parts")
        )
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not msg.keys():
        return Verdict(kind="unrecognised", notes=(*notes, "no header lines: not a mail"))
    token = subject_token(msg)
    if token is not None and sent_to_bounce_address(msg, bounce_address):
        return _unsubscribe(token, secret_key, notes)
    identity = find_identity(msg, secret_key, bounce_address)
    shape = _shape(msg)
    verdict = dataclasses.replace(
        shape,
        delivery_ids=tuple(identity.delivery_ids),
        notes=(*notes, *identity.notes, *shape.notes),
    )
    if verdict.kind in _FAILURES and not verdict.delivery_ids:
        return dataclasses.replace(
            verdict,
            kind="unrecognised",
            notes=(*verdict.notes, f"a {verdict.kind} report without a valid token names nobody"),
        )
    return verdict


def _shape(msg: Message) -> Verdict:
    """What kind of message it is, without its delivery ids."""
    if arf.is_feedback_report(msg):
        return arf.classify_report(msg)
    if dsn.is_delivery_report(msg):
        return dsn.classify_report(msg)
    if server_texts.looks_like_report(msg):
        return nonstandard.classify_report(msg)
    signal = auto_reply.auto_reply_signal(msg)
    if signal is not None:
        return auto_reply.classify(msg, signal)
    return Verdict(kind="reply", detector="")


def _unsubscribe(token: str, secret_key: SecretKeys, notes: list[str]) -> Verdict:
    """The mailto's own token decides: not one found elsewhere in the mail."""
    identity = Identity()
    identity.offer(secret_key, token, "the subject")
    if not identity.delivery_ids:
        return Verdict(
            kind="unrecognised",
            detector="mailto",
            notes=(*notes, *identity.notes, "an unsubscribe request without a valid token"),
        )
    return Verdict(
        kind="unsubscribe",
        delivery_ids=tuple(identity.delivery_ids),
        detector="mailto",
        notes=tuple(notes),
    )
