"""One read of the bounce mailbox: each new message claimed, classified, applied, filed.

Per message, one transaction: the claim row (with the bytes), the verdict's effects, and
what was done. Only after it commits is the message filed (moved, or deleted on POP3), so
a crash in between leaves the message in the mailbox with its row stored, and a later
read files it without applying it again. A message seen before (its UID/UIDL stored) is
not fetched again. One that another reader is applying right now waits for that reader's
commit and is left to that reader to file: two sessions moving one message at once can
leave two copies (Dovecot's MOVE on Maildir copies, then expunges), so only the reader
that applied a message moves it, and a stored one still in the folder is filed again only
once it has waited REFILE_AFTER (its reader is gone by then).

A conflict with another reader's transaction on anything but the claim (both suppressing
one address at once) rolls the message's transaction back; it is tried once more, and
then left in the mailbox with a warning: a read never ends on it. A reply to forward is
stored as kept first and forwarded after the commit, so no lock is held while the relay
answers; a failed forward leaves it kept, and a later read forwards it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipeline import db
from pipeline.bounces import records
from pipeline.bounces.apply import Applied, apply_verdict
from pipeline.bounces.forward import ReplyForwarder, make_forwarder
from pipeline.bounces.mailbox import (
    MAX_MESSAGE_BYTES,
    Destination,
    MailboxReader,
    MessageUnreadable,
    Oversized,
    mailbox_name,
    open_mailbox,
)
from pipeline.bounces.verdict import Verdict
from pipeline.config import BounceMailbox, Config
from pipeline.environment import bounce_password
from pipeline.errors import ConfigError, MailboxError
from pipeline.send.reader_changes import SoftBounceRule
from pipeline.tokens import SecretKeys

log = logging.getLogger("newsletter.bounces")
REFILE_AFTER = timedelta(minutes=10)
FORWARD_RETRY_AFTER = timedelta(minutes=10)
"""Longer than a forward can take (each step of the SMTP session may wait 30 s), so no
other reader is forwarding it still."""

Classifier = Callable[[bytes, SecretKeys, str | None], Verdict]


@dataclass
class FetchReport:
    mailbox: str
    counts: Counter[str] = field(default_factory=Counter)
    """New messages by verdict kind."""
    unrecognised: int = 0
    """New messages filed as unrecognised (no shape known, or naming no delivery of ours)."""
    refiled: int = 0
    """Messages read before (a crash left them in the folder) and filed now."""
    taken: int = 0
    """Messages another reader of the mailbox was applying at the same time."""
    kept: int = 0
    """Replies left unread in the mailbox, new or old."""
    pruned: int = 0
    actions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Messages left for the next read (a reply whose forward failed, a conflict)."""
    warnings: list[str] = field(default_factory=list)
    """Book-keeping left for the next read (the store was busy)."""
    forwarding_off: str | None = None


def mailbox_settings(config: Config) -> BounceMailbox:
    if config.bounces.mailbox is None:
        raise ConfigError("bounces.mailbox is not set: there is no bounce mailbox to read")
    return config.bounces.mailbox


def fetch_bounces(
    config: Config,
    engine: sa.Engine,
    secret_key: SecretKeys,
    classifier: Classifier,
) -> FetchReport:
    """Read the mailbox once. A mailbox that cannot be reached is a MailboxError, noted
    as the mailbox's last error for `status`; what was done before it stays done."""
    settings = mailbox_settings(config)
    password = bounce_password()
    name = mailbox_name(settings)
    report = FetchReport(name)
    forwarder = make_forwarder(config)
    if config.bounces.forward_replies_to is not None and forwarder is None:
        report.forwarding_off = (
            "bounces.forward_replies_to is set, but replies are forwarded only through "
            f"provider.smtp (the provider is {config.provider.name}): replies stay unread "
            "in the mailbox"
        )
    started = db.now()
    try:
        with open_mailbox(settings, password) as reader:
            _read(reader, config, engine, secret_key, classifier, forwarder, report)
    except MailboxError as exc:
        _note_read(engine, name, started, str(exc), report)
        raise
    try:
        with engine.begin() as connection:
            report.pruned = records.prune_raw(connection, config.bounces.keep_days, db.now())
    except sa.exc.OperationalError as exc:  # the store is busy: the next read prunes
        _warn(report, f"old messages' bytes not dropped this time ({_first_line(exc)})")
    _note_read(engine, name, started, None, report)
    return report


def _note_read(
    engine: sa.Engine, name: str, started: datetime, error: str | None, report: FetchReport
) -> None:
    try:
        records.note_read(engine, name, started, error)
    except sa.exc.OperationalError as exc:  # the store is busy; what was read stays read
        _warn(report, f"the mailbox's last read not noted for status ({_first_line(exc)})")


def _warn(report: FetchReport, warning: str) -> None:
    report.warnings.append(warning)
    log.warning("bounces: %s", warning)


def _read(
    reader: MailboxReader,
    config: Config,
    engine: sa.Engine,
    secret_key: SecretKeys,
    classifier: Classifier,
    forwarder: ReplyForwarder | None,
    report: FetchReport,
) -> None:
    with engine.connect() as connection:
        seen = records.seen(connection, reader.name)
    rule = SoftBounceRule.of(config.subscriptions)
    bounce_address = None if config.bounces.address is None else str(config.bounces.address)
    listed_at = db.now()
    for uid in reader.ids():
        stored = seen.get(uid)
        if stored is not None:
            _refile(reader, uid, stored, listed_at, engine, forwarder, report)
            continue
        try:
            fetched = reader.fetch(uid)
        except MessageUnreadable as exc:  # this message alone; the rest are read
            report.problems.append(f"{uid}: {exc}")
            log.warning("bounces: %s %s: %s", reader.name, uid, exc)
            continue
        if fetched is None:
            continue  # filed by another reader since the listing
        if isinstance(fetched, Oversized):
            raw, verdict, filed = fetched.header, _oversized(fetched), fetched.destination
        else:
            raw, filed = fetched, None
            verdict = _classified(raw, uid, secret_key, bounce_address, classifier)
        row = _store_retried(engine, reader.name, uid, raw, verdict, rule, report, filed)
        if row is None:
            continue
        applied = row.applied
        if verdict.kind == "reply" and forwarder is not None:
            forwarded = _forward(engine, forwarder, row.row_id, uid, raw, report)
            if forwarded is None:
                continue
            applied = forwarded
        reader.file(uid, applied.destination)
        report.counts[verdict.kind] += 1
        report.unrecognised += (
            verdict.kind == "unrecognised" or applied.destination == "unrecognised"
        )
        report.kept += verdict.kind == "reply" and applied.destination == "kept"
        report.actions.append(f"{uid}: {verdict.kind}: {applied.action}")
        log.info("bounces: %s %s: %s", reader.name, uid, applied.action)


@dataclass(frozen=True)
class StoredRow:
    row_id: int
    applied: Applied


def _store_retried(
    engine: sa.Engine,
    mailbox: str,
    uid: str,
    raw: bytes,
    verdict: Verdict,
    rule: SoftBounceRule,
    report: FetchReport,
    filed: Destination | None,
) -> StoredRow | None:
    """Store and apply the message; None when it is left (taken by another reader, or a
    conflict twice). A conflict with another reader's transaction (both suppressing one
    address, SQLite's lock held too long) rolls this one back: it is tried once more, then
    left in the mailbox for the next read, with a warning; the read goes on."""
    for attempt in (1, 2):
        try:
            return _store(engine, mailbox, uid, raw, verdict, rule, filed)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            with engine.connect() as connection:
                if records.is_claimed(connection, mailbox, uid, records.claim_key(raw)):
                    report.taken += 1  # another reader applied it meanwhile, and files it
                    return None
            if attempt == 2:
                problem = f"{uid}: a conflict with another transaction ({_first_line(exc)})"
                report.problems.append(problem)
                log.warning("bounces: %s %s", mailbox, problem)
    return None


def _first_line(exc: sa.exc.DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__


def _store(
    engine: sa.Engine,
    mailbox: str,
    uid: str,
    raw: bytes,
    verdict: Verdict,
    rule: SoftBounceRule,
    filed: Destination | None,
) -> StoredRow:
    """One transaction: the claim (with the bytes), the verdict's effects, what was done.
    `filed`: where the reader files it, whatever the verdict (an oversized message)."""
    at = db.now()
    with engine.begin() as connection:
        row_id = records.claim(connection, mailbox, records.claim_key(raw), uid, raw, at)
        applied = apply_verdict(connection, verdict, rule, at)
        if filed is not None:
            applied = Applied(filed, None, "; ".join(verdict.notes))
        records.complete(
            connection,
            row_id,
            kind=verdict.kind,
            filed=applied.destination,
            delivery_id=applied.delivery_id,
            status=None if verdict.status is None else verdict.status[:16],
            diagnostic=verdict.diagnostic,
            detector=verdict.detector[:64],
            action=applied.action,
            notes="\n".join(verdict.notes),
            processed_at=db.now(),
        )
    return StoredRow(row_id, applied)


def _forward(
    engine: sa.Engine,
    forwarder: ReplyForwarder,
    row_id: int,
    uid: str,
    raw: bytes,
    report: FetchReport,
) -> Applied | None:
    """Forward a reply stored as kept, with no transaction open (the relay may take its
    time), then mark it forwarded. None when the relay refused: the reply stays kept in
    the mailbox, and a later read forwards it."""
    try:
        forwarder.forward(raw)
    except MailboxError as exc:
        report.problems.append(f"{uid}: {exc}")
        log.warning("bounces: %s: %s", uid, exc)
        return None
    action = f"a reply, forwarded to {forwarder.to}"
    with engine.begin() as connection:
        records.complete(connection, row_id, filed="processed", action=action)
    return Applied("processed", None, action)


def _oversized(message: Oversized) -> Verdict:
    where = "left on the server" if message.destination == "kept" else "filed as unrecognised"
    note = (
        f"{message.size} bytes, over the {MAX_MESSAGE_BYTES} a message may have: not read, "
        f"its header alone stored; {where}"
    )
    return Verdict("unrecognised", detector="size", notes=(note,))


def _classified(
    raw: bytes,
    uid: str,
    secret_key: SecretKeys,
    bounce_address: str | None,
    classifier: Classifier,
) -> Verdict:
    """The classifier's verdict; a message it fails on is unrecognised, never the end of
    the run (nothing a mail can send stops the rest)."""
    try:
        return classifier(raw, secret_key, bounce_address)
    except Exception as exc:  # a stranger's bytes must not stop the read
        log.exception("bounces: message %s could not be classified", uid)
        return Verdict("unrecognised", notes=(f"the classifier failed: {type(exc).__name__}",))


def _refile(
    reader: MailboxReader,
    uid: str,
    stored: records.Stored,
    listed_at: datetime,
    engine: sa.Engine,
    forwarder: ReplyForwarder | None,
    report: FetchReport,
) -> None:
    """File a message whose verdict is stored already: a kept reply stays, or is forwarded
    now when an earlier forward failed; one that a crash between the commit and the move
    left is filed once its reader is surely gone."""
    if stored.filed == "kept" and stored.kind != "reply":
        return  # an oversized message POP3 leaves on the server; `status` counts it
    if stored.filed == "kept":
        if forwarder is not None and _retry_forward(engine, forwarder, stored, uid, report):
            reader.file(uid, "processed")
            report.refiled += 1
            return
        report.kept += 1
    elif stored.processed_at < listed_at - REFILE_AFTER:
        reader.file(uid, stored.filed)
        report.refiled += 1


def _retry_forward(
    engine: sa.Engine,
    forwarder: ReplyForwarder,
    stored: records.Stored,
    uid: str,
    report: FetchReport,
) -> bool:
    """Forward a kept reply again, once no other reader can be forwarding it: the retry is
    taken by moving its processed_at on, which only one reader can do."""
    with engine.begin() as connection:
        raw = records.take_forward(connection, stored.row_id, db.now(), FORWARD_RETRY_AFTER)
    if raw is None:
        return False
    forwarded = _forward(engine, forwarder, stored.row_id, uid, raw, report)
    if forwarded is not None:
        report.actions.append(f"{uid}: reply: {forwarded.action}")
    return forwarded is not None


def default_classifier() -> Classifier:
    from pipeline.bounces.classify import classify

    classifier: Classifier = classify
    return classifier
