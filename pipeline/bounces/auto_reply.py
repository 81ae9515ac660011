"""Out-of-office and other automatic replies (RFC 3834): counted, never a bounce.

RFC 3834 asks responders for `Auto-Submitted: auto-replied`; Exchange sends
`auto-generated` and "Automatische Antwort:" or "Automatic reply:" in the subject; some
responders add `X-Autoreply` or `Precedence: auto_reply`; older ones only change the
subject. Checked after the DSN and ARF detectors: Exim and Postfix mark their bounces
`Auto-Submitted` too.
"""

from __future__ import annotations

import re
from email.message import Message

from pipeline.bounces import parts
from pipeline.bounces.verdict import Verdict

_FLAG_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autoreply-From")

_SUBJECTS = re.compile(
    r"abwesenheits?(?:notiz|nachricht|meldung|info)|automatische\s+antwort|"
    r"automatische\s+r(?:ü|ue)ckantwort|nicht\s+im\s+b(?:ü|ue)ro|\babwesend\b|"
    r"out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto[\s-]?reply|autoreply|"
    r"auto[\s-]?respon(?:se|der|s)|\bvacation\b|\bon\s+leave\b|away\s+from\s+(?:the\s+)?office|"
    r"r(?:é|e)ponse\s+automatique|absence",
    re.IGNORECASE,
)


_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|antw|sv|fwd?|wg)\s*:", re.IGNORECASE)


def auto_reply_signal(msg: Message) -> str | None:
    """Which header or subject says this is an automatic reply, or None."""
    submitted = parts.header_text(msg, "Auto-Submitted").lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted}"
    for name in _FLAG_HEADERS:
        if msg.get(name) is not None:
            return name
    if parts.header_text(msg, "Precedence").lower() == "auto_reply":
        return "Precedence: auto_reply"
    report_type = str(msg.get_param("report-type", "") or "").lower()
    if parts.content_type(msg) == "multipart/report" and report_type == "disposition-notification":
        return "a read receipt (RFC 8098)"
    subject = parts.header_text(msg, "Subject")
    # A person's "Re: Urlaubsvertretung?" is a reply; responders that keep "Re:" say
    # Auto-Submitted (Gmail, Sieve vacation) and were caught above.
    if _SUBJECTS.search(subject) and not _REPLY_PREFIX.match(subject):
        return "the subject"
    return None


def classify(msg: Message, signal: str) -> Verdict:
    return Verdict(
        kind="auto_reply",
        diagnostic=parts.header_text(msg, "Subject")[:200],
        detector="rfc3834",
        notes=(f"automatic reply by {signal}",),
    )
