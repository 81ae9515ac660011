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
from pipeline.bounces.apply import apply_verdict
from pipeline.bounces.forward import ReplyForwarder, make_forwarder
from pipeline.bounces.mailbox import MailboxReader, mailbox_name, open_mailbox
from pipeline.bounces.verdict import Verdict
from pipeline.config import BounceMailbox, Config
from pipeline.environment import bounce_password
from pipeline.errors import ConfigError, MailboxError
from pipeline.send.reader_changes import SoftBounceRule
from pipeline.tokens import SecretKeys

log = logging.getLogger("newsletter.bounces")
REFILE_AFTER = timedelta(minutes=10)

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
    """Messages left for the next read (a reply whose forward failed)."""
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
        records.note_read(engine, name, started, str(exc))
        raise
    with engine.begin() as connection:
        report.pruned = records.prune_raw(connection, config.bounces.keep_days, db.now())
    records.note_read(engine, name, started, None)
    return report


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
            _refile(reader, uid, stored, listed_at, report)
            continue
        raw = reader.fetch(uid)
        if raw is None:
            continue  # filed by another reader since the listing
        verdict = _classified(raw, uid, secret_key, bounce_address, classifier)
        key = records.claim_key(raw)
        at = db.now()
        try:
            with engine.begin() as connection:
                row_id = records.claim(connection, reader.name, key, uid, raw, at)
                forwarded_to = None
                if verdict.kind == "reply" and forwarder is not None:
                    _forward(forwarder, raw)
                    forwarded_to = forwarder.to
                applied = apply_verdict(connection, verdict, rule, at, forwarded_to=forwarded_to)
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
        except ForwardFailed as exc:  # rolled back: the reply is read again next time
            report.problems.append(f"{uid}: {exc}")
            log.warning("bounces: %s %s: %s", reader.name, uid, exc)
            continue
        except sa.exc.IntegrityError:
            with engine.connect() as connection:
                if not records.is_claimed(connection, reader.name, uid, key):
                    raise  # not a claim taken by another reader: a real conflict
            report.taken += 1  # another reader applied it meanwhile, and files it
            continue
        reader.file(uid, applied.destination)
        report.counts[verdict.kind] += 1
        report.unrecognised += applied.destination == "unrecognised"
        report.kept += applied.destination == "kept"
        report.actions.append(f"{uid}: {verdict.kind}: {applied.action}")
        log.info("bounces: %s %s: %s", reader.name, uid, applied.action)


class ForwardFailed(Exception):
    pass


def _forward(forwarder: ReplyForwarder, raw: bytes) -> None:
    try:
        forwarder.forward(raw)
    except MailboxError as exc:
        raise ForwardFailed(str(exc)) from exc


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
    report: FetchReport,
) -> None:
    """File a message whose verdict is stored already: a kept reply stays; one that a
    crash between the commit and the move left is filed once its reader is surely gone."""
    if stored.filed == "kept":
        report.kept += 1
    elif stored.processed_at < listed_at - REFILE_AFTER:
        reader.file(uid, stored.filed)
        report.refiled += 1


def default_classifier() -> Classifier:
    from pipeline.bounces.classify import classify

    classifier: Classifier = classify
    return classifier
