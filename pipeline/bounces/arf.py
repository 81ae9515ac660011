"""Spam complaints: RFC 5965 feedback reports and Microsoft's JMRP/SNDS shape.

A reader who presses "this is spam" at Yahoo, AOL, Comcast or Fastmail makes their
provider send `multipart/report; report-type=feedback-report` with a
message/feedback-report part (`Feedback-Type: abuse`) and the original, or its headers.
Microsoft's JMRP sends `multipart/mixed` from staff@hotmail.com, "complaint about
message from <ip>", with only the original as message/rfc822. Both usually redact the
reader's address: the token in the returned headers is what names the delivery.
"""

from __future__ import annotations

import re
from email.message import Message

from pipeline.bounces import parts
from pipeline.bounces.verdict import Verdict

# RFC 5965 and its registry: what a reader's report of spam is called. `auth-failure`
# (DMARC/SPF failure reports) and `not-spam` say nothing against the reader's wish to
# read. A report without a type (some redacting providers) is taken as the complaint it
# nearly always is.
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus", "other", "opt-out"})

_JMRP_SENDERS = re.compile(r"@(?:hotmail|outlook|live|msn)\.com\s*>?\s*$", re.IGNORECASE)
_JMRP_SUBJECT = re.compile(r"^\s*complaint about message from", re.IGNORECASE)


def is_feedback_report(msg: Message) -> bool:
    """An RFC 5965 report by type or by part, or a JMRP complaint."""
    if parts.content_type(msg) == "multipart/report":
        report_type = str(msg.get_param("report-type", "") or "").lower()
        if report_type == "feedback-report":
            return True
    if any(parts.content_type(p) == "message/feedback-report" for p in parts.walk(msg)):
        return True
    return _is_jmrp(msg)


def _is_jmrp(msg: Message) -> bool:
    return bool(
        _JMRP_SENDERS.search(parts.header_text(msg, "From"))
        and _JMRP_SUBJECT.search(parts.header_text(msg, "Subject"))
        and any(parts.content_type(p) == "message/rfc822" for p in parts.walk(msg))
    )


def classify_report(msg: Message) -> Verdict:
    """The verdict of a feedback report (delivery ids come from `returned`)."""
    fields = parts.feedback_report_fields(msg)
    feedback_type = parts.header_text(fields, "Feedback-Type").lower() if fields else ""
    named = parts.header_texts(fields, "Original-Rcpt-To") if fields else []
    named += [
        parts.header_text(h, "X-HmXmrOriginalRecipient") for h in parts.returned_header_blocks(msg)
    ]
    recipients = [r.strip().strip("<>") for r in named if r.strip()]
    agent = parts.header_text(fields, "User-Agent") if fields else ""
    detector = "jmrp" if fields is None else "arf"
    if fields is not None and feedback_type and feedback_type not in COMPLAINT_TYPES:
        return Verdict(
            kind="unrecognised",
            recipients=tuple(recipients),
            detector=detector,
            notes=(f"a feedback report of type {feedback_type or '(none)'!r}, not a complaint",),
        )
    return Verdict(
        kind="complaint",
        diagnostic=" ".join(x for x in (feedback_type or "abuse", agent) if x),
        recipients=tuple(recipients),
        detector=detector,
    )
