"""What one message in the bounce mailbox is, and whose delivery it names.

Identity comes only from a valid delivery token (the VERP envelope address, the
`X-Newsletter-Delivery` header or Message-ID of the returned original, the subject of a
mailto: unsubscribe): an address found only in a body suppresses nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

VerdictKind = Literal[
    "hard",  # the address is bad (5.1.x, 5.2.1): suppressed
    "soft",  # 4.x.x, mailbox full...: counted, suppressed after the limit within the window
    "block",  # 5.7.x policy, spam, reputation, 5.3/5.4.x: counted on the issue, never suppresses
    "complaint",  # RFC 5965 feedback report: suppressed at once
    "auto_reply",  # RFC 3834, out of office: counted and left alone
    "unsubscribe",  # a mailto: List-Unsubscribe: the reader leaves
    "reply",  # a person's real reply: left unread (or forwarded)
    "unrecognised",  # looks like a bounce, but no shape we know or no valid token
]

SUPPRESSING: frozenset[VerdictKind] = frozenset({"hard", "complaint"})


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    delivery_ids: tuple[int, ...] = ()
    """Deliveries named by a valid token; empty when none (then nobody is touched)."""
    status: str | None = None
    """The enhanced status code (RFC 3463), e.g. `5.1.1`, where the message gave one."""
    diagnostic: str = ""
    """The remote server's words (`Diagnostic-Code`, an NDR's sentence), one line, short."""
    recipients: tuple[str, ...] = ()
    """Addresses the report names (Final-Recipient...): for the operator's eyes only."""
    detector: str = ""
    """What recognised it (`rfc3464`, `arf`, `rfc3834`, `flufl:Exim`, `german`...)."""
    notes: tuple[str, ...] = field(default=())
    """Why a token was not believed, and the like: logged, never shown to readers."""
