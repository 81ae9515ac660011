"""Failure reports without RFC 3464 parts: flufl.bounce's detectors, then our own texts.

flufl.bounce (Mailman's detectors) answers two sets of addresses: temporary and
permanent failures. Only its DSN detector and its warning detector ever say
"temporary" (a delayed DSN, a "will retry" notice); every other detector, Exim's,
qmail's, Postfix's, Exchange's, Yahoo's, reports what it finds as permanent. The addresses
are for the operator's eyes (`recipients`), never identity. Whether a permanent failure is
hard, soft or a block is then read from the notification's status code and words.
"""

from __future__ import annotations

import logging
from email.message import Message

from flufl.bounce import all_failures

from pipeline.bounces import parts
from pipeline.bounces.server_texts import language_of_failure
from pipeline.bounces.status import (
    BLOCK_WORDS,
    HARD_WORDS,
    SOFT_WORDS,
    basic_code,
    enhanced_code,
    failure_kind,
    one_line,
)
from pipeline.bounces.verdict import Verdict

# flufl.bounce logs each detector it runs at INFO, and a detector's crash with its traceback
# (the message's content with it) before re-raising: we note the crash ourselves.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)


def classify_report(msg: Message) -> Verdict:
    """The verdict of a failure report that has no delivery-status part."""
    text = parts.notification_text(msg)
    status = enhanced_code(text) or basic_code(text)
    diagnostic = _diagnostic(text, status)
    notes: list[str] = []
    try:
        temporary, permanent = all_failures(msg)
    except Exception as exc:  # a heuristic detector tripping over a strange message
        temporary, permanent = frozenset(), frozenset()
        notes.append(f"flufl.bounce failed on this message: {type(exc).__name__}")
    recipients = tuple(sorted(a.decode("ascii", "replace") for a in temporary | permanent))
    if temporary or permanent:
        # Only flufl's warning and delayed-DSN detectors answer "temporary".
        kind = failure_kind(status, diagnostic or text) if permanent else "soft"
        return Verdict(
            kind=kind,
            status=status,
            diagnostic=diagnostic,
            recipients=recipients,
            detector="flufl.bounce",
            notes=tuple(notes),
        )
    language = language_of_failure(text)
    if language is None:
        return Verdict(
            kind="unrecognised",
            status=status,
            diagnostic=diagnostic,
            detector="",
            notes=(*notes, "sent by a mail system, but in no shape we know"),
        )
    if status is None and diagnostic == "":
        # "could not be delivered" and no reason: counted as soft, so only a mailbox that
        # keeps failing is suppressed.
        notes.append("a failure without a code or a reason: taken as soft")
    return Verdict(
        kind=failure_kind(status, diagnostic or text, permanent=status is not None),
        status=status,
        diagnostic=diagnostic,
        detector=f"text:{language}",
        notes=tuple(notes),
    )


def _diagnostic(text: str, status: str | None) -> str:
    """The lines that carry the code (or the reason) as one short line."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if status and status in line:
            return one_line(" ".join(_paragraph(lines, index)))
    for words in (HARD_WORDS, SOFT_WORDS, BLOCK_WORDS):
        for index, line in enumerate(lines):
            if words.search(line):
                return one_line(" ".join(_paragraph(lines, index)))
    return ""


def _paragraph(lines: list[str], start: int, limit: int = 3) -> list[str]:
    """The line at `start` and the non-blank lines that continue it (at most `limit`)."""
    taken = [lines[start]]
    for line in lines[start + 1 : start + limit]:
        if not line.strip():
            break
        taken.append(line)
    return taken
