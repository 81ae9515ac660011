"""Bounces without a machine-readable part: what servers write, in German and English.

flufl.bounce knows the layouts of Exim, qmail, Postfix without DSN, Exchange 5.5 and many
more, but not the German servers' words (T-Online's "Teilnehmer existiert nicht", GMX's
and web.de's "Postfach voll", "Die E-Mail-Adresse existiert nicht", "unzustellbar") nor
today's Exchange Online and Gmail sentences. These patterns say that a message is a
failure report; `status.failure_kind` then reads the code and the reason.
"""

from __future__ import annotations

import re
from email.message import Message

from pipeline.bounces import parts

# The sender or subject of a failure report (checked before any body text is trusted:
# a reader's reply may well say "unzustellbar").
_REPORT_SENDER = re.compile(
    r"mailer-daemon|postmaster|mail\s+delivery\s+(?:system|subsystem)|mail\s+administrator|"
    r"mailersubsystem|e-?mail-?zustellung",
    re.IGNORECASE,
)
_REPORT_SUBJECT = re.compile(
    r"undeliver(?:able|ed)|delivery\s+(?:status\s+notification|failure|failed|has\s+failed|"
    r"problem)|mail\s+delivery\s+failed|failure\s+notice|returned\s+mail|"
    r"could\s+not\s+be\s+delivered|wasn'?t\s+delivered|non[- ]delivery|mail\s+system\s+error|"
    r"unzustellbar|nicht\s+zustellbar|zustellung\s+fehlgeschlagen|"
    r"(?:fehler|problem)\s+bei\s+der\s+zustellung|nicht\s+zugestellt|"
    r"unzustellbare\s+nachricht|r(?:ü|ue)ckl(?:ä|ae)ufer",
    re.IGNORECASE,
)

GERMAN = re.compile(
    r"unzustellbar|nicht\s+(?:[\w-]+\s+){0,5}?(?:zugestellt|ausgeliefert)\s+werden|"
    r"nicht\s+zustellbar|zustellung\s+(?:ist\s+)?fehlgeschlagen|fehler\s+bei\s+der\s+zustellung|"
    r"konnte\s+nicht\s+(?:zugestellt|(?:ü|ue)bermittelt)\s+werden|"
    r"hat\s+einige\s+oder\s+alle\s+empf(?:ä|ae)nger\s+nicht\s+erreicht|"
    r"teilnehmer\s+existiert\s+nicht|e-?mail-?adresse\s+existiert\s+nicht|"
    r"empf(?:ä|ae)nger(?:adresse)?\s+(?:existiert\s+nicht|unbekannt|ung(?:ü|ue)ltig)|"
    r"benutzer\s+unbekannt|unbekannter\s+(?:benutzer|empf(?:ä|ae)nger)|"
    r"postfach\b[^.\n]{0,40}?\b(?:voll|(?:ü|ue)berf(?:ü|ue)llt)\b",
    re.IGNORECASE,
)
ENGLISH = re.compile(
    r"could\s*n[o']t\s+be\s+delivered|was\s*n[o']t\s+delivered|undeliverable|"
    r"delivery\s+(?:to\s+the\s+following\s+recipients?\s+)?(?:has\s+)?failed|"
    r"permanent\s+(?:error|failure|fatal\s+error)|failed\s+permanently|"
    r"did\s+not\s+reach\s+the\s+following\s+recipient|address\s+not\s+found|"
    r"the\s+following\s+address(?:es|\(es\))?\s+failed|unable\s+to\s+deliver",
    re.IGNORECASE,
)


def looks_like_report(msg: Message) -> bool:
    """Sent by a mail system about a failure (not a person, not a responder)."""
    if msg.get("X-Failed-Recipients") is not None:
        return True
    sender = parts.header_text(msg, "From")
    subject = parts.header_text(msg, "Subject")
    return bool(_REPORT_SENDER.search(sender) or _REPORT_SUBJECT.search(subject))


def language_of_failure(text: str) -> str | None:
    """`de` or `en` when the notification says the mail was not delivered, else None."""
    if GERMAN.search(text):
        return "de"
    if ENGLISH.search(text):
        return "en"
    return None
