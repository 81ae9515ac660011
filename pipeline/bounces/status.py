"""From a status code and the remote server's words to hard, soft or block.

The decisions (RFC 3463 classes and subjects, and what large senders do with them):

- 4.x.x: soft. The server may take it later; repeated soft bounces suppress after
  `subscriptions.soft_bounce_limit` within `soft_bounce_days`.
- 5.1.x (bad address, bad domain), 5.2.1 (mailbox disabled): hard, suppressed at once.
- 5.2.2 (mailbox full): soft. RFC 3463 calls it permanent, but a full mailbox is
  emptied again; Gmail, Postfix users and most services treat it as temporary, and the
  soft-bounce limit still suppresses a mailbox that stays full for a month.
- 5.2.0 and 5.2.4 (mailbox trouble of unknown permanence): soft.
- 5.2.3 and 5.3.4 (message too big), 5.3.x, 5.4.x (routing, network), 5.5.x (protocol),
  5.6.x (content), 5.7.x (policy, spam, reputation, authentication): block. The
  message or our sending was refused, not the address: counted on the issue, never
  suppresses the reader.
- A generic code (5.0.0, or only `550`/`554`) is read through the words that come with it:
  "blocked", "spam", "reputation", "blacklist"... make it a block, "mailbox full" or
  "quota" soft, "user unknown" hard. With no telling words a permanent failure is hard.
"""

from __future__ import annotations

import re
from typing import Literal

FailureKind = Literal["hard", "soft", "block"]

ENHANCED_CODE = re.compile(r"(?<![\w.])([245]\.[0-7]\.\d{1,3})(?!\.?\d)")
"""An RFC 3463 code in running text; the middle digit (0-7) keeps IP addresses out."""
BASIC_CODE = re.compile(r"(?<![\w.#-])([45][0-5]\d)(?=[ -]|$)", re.MULTILINE)
"""An SMTP reply code at a reply's start: `550 ...`, `554-...`."""

# The words of a refusal of the message or of our servers, not of the address.
BLOCK_WORDS = re.compile(
    r"block(?:ed|list(?:ed)?|\s+listed)|black\s*list(?:ed)?|\bspam|reputation|\bpolicy|"
    r"\bdmarc\b|\bspf\b|\bdkim\b|\bdnsbl|\brbl\b|spamhaus|not\s+authori[sz]ed|"
    r"access\s+denied|suspicious|"
    r"blockiert|gesperrte?\s+(?:ip|absender|server)|als\s+spam|spam-?verdacht|richtlinie",
    re.IGNORECASE,
)
# The words of a full mailbox or of a failure that may pass.
SOFT_WORDS = re.compile(
    r"mailbox\s+(?:is\s+)?full|over\s*quota|quota\s+exceeded|exceeded\s+storage|"
    r"insufficient\s+(?:system\s+)?storage|mailbox\s+size\s+limit|too\s+many\s+messages|"
    r"try\s+(?:again\s+)?later|temporar(?:y|ily)|"
    r"postfach\b[^.\n]{0,40}?\b(?:voll|(?:ü|ue)berf(?:ü|ue)llt)\b|speicherplatz|"
    r"quota\s+(?:ü|ue)berschritten|vor(?:ü|ue)bergehend|sp(?:ä|ae)ter\s+erneut",
    re.IGNORECASE,
)
# The words of an address that is not there.
HARD_WORDS = re.compile(
    r"user\s+unknown|unknown\s+(?:user|recipient|address|mailbox)|no\s+such\s+(?:user|"
    r"mailbox|recipient|address)|does\s*n[o']t\s+exist|not\s+exist|mailbox\s+unavailable|"
    r"recipient\s+(?:address\s+)?(?:rejected|not\s+found|unknown)|invalid\s+(?:recipient|"
    r"mailbox|address)|mailbox\s+not\s+found|no\s+mailbox|account\s+(?:has\s+been\s+)?"
    r"(?:disabled|deactivated|closed|suspended)|address\s+rejected|unrouteable|"
    r"not\s+(?:a\s+)?valid\s+(?:recipient|mailbox|address)|name\s+is\s+not\s+recogni[sz]ed|"
    r"unknown\s+recipient|host\s+or\s+domain\s+name\s+not\s+found|"
    r"existiert\s+nicht|nicht\s+vorhanden|unbekannt|wurde\s+nicht\s+erkannt|"
    r"wurde\s+unter\s+\S+\s+nicht\s+gefunden|ung(?:ü|ue)ltige?\s+(?:e-?mail-?)?"
    r"(?:adresse|empf(?:ä|ae)nger)|kein(?:e)?\s+(?:postfach|mailbox)|"
    r"postfach\s+(?:ist\s+)?(?:deaktiviert|gel(?:ö|oe)scht|gek(?:ü|ue)ndigt)",
    re.IGNORECASE,
)


def enhanced_code(text: str) -> str | None:
    """The first RFC 3463 code in `text`, or None."""
    match = ENHANCED_CODE.search(text)
    return match.group(1) if match else None


def basic_code(text: str) -> str | None:
    """The first SMTP reply code at a reply's start in `text`, or None."""
    match = BASIC_CODE.search(text)
    return match.group(1) if match else None


def failure_kind(status: str | None, diagnostic: str, *, permanent: bool = True) -> FailureKind:
    """What one failed delivery is, from its enhanced (or basic SMTP) code and words.

    `permanent` is what the report said when it gave no code at all (a DSN's
    `Action: delayed`, a detector's temporary list).
    """
    if status and "." in status:
        klass, subject, detail = status.split(".")
        if klass == "4":
            return "soft"
        if klass == "5":
            specific = _by_enhanced_code(subject, detail)
            if specific is not None:
                return specific
        return _by_words(diagnostic, permanent=klass != "4")
    if status:  # a basic SMTP code: 4xx, 5xx
        if status.startswith("4"):
            return "soft"
        if status == "552" and not BLOCK_WORDS.search(diagnostic):
            return "soft"  # 552: exceeded storage allocation
        return _by_words(diagnostic, permanent=True)
    return _by_words(diagnostic, permanent=permanent)


def _by_enhanced_code(subject: str, detail: str) -> FailureKind | None:
    if subject == "1":
        return "hard"
    if subject == "2":
        if detail == "1":
            return "hard"
        return "block" if detail == "3" else "soft"
    if subject in {"3", "4", "5", "6", "7"}:
        return "block"
    return None  # 5.0.x: the words decide


def _by_words(diagnostic: str, *, permanent: bool) -> FailureKind:
    if BLOCK_WORDS.search(diagnostic):
        return "block"
    if SOFT_WORDS.search(diagnostic):
        return "soft"
    if HARD_WORDS.search(diagnostic):
        return "hard"
    return "hard" if permanent else "soft"


def one_line(text: str, limit: int = 200) -> str:
    """The remote server's words as one short line, for the Verdict and the log."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
