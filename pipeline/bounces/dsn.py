"""RFC 3464 delivery status notifications: `multipart/report; report-type=delivery-status`.

Each recipient block says `Action` (failed, delayed, delivered, relayed, expanded),
`Status` (RFC 3463) and, usually, `Diagnostic-Code` (the remote server's reply). Our mails
have one recipient each, but a relay may report several: the worst failure decides.
"""

from __future__ import annotations

from email.message import Message

from pipeline.bounces import parts
from pipeline.bounces.status import FailureKind, enhanced_code, failure_kind, one_line
from pipeline.bounces.verdict import Verdict

_SEVERITY: dict[FailureKind, int] = {"hard": 3, "block": 2, "soft": 1}


def is_delivery_report(msg: Message) -> bool:
    """A report by its declared type, or any message/delivery-status part inside."""
    if parts.content_type(msg) == "multipart/report":
        report_type = str(msg.get_param("report-type", "") or "").lower()
        if report_type == "delivery-status":
            return True
    return any(parts.content_type(p) == "message/delivery-status" for p in parts.walk(msg))


def classify_report(msg: Message) -> Verdict:
    """The verdict of a DSN (without its delivery ids: identity is `returned`'s job)."""
    blocks = [b for p in parts.walk(msg) for b in _status_blocks(p)]
    failures: list[tuple[FailureKind, str | None, str, str]] = []
    recipients: list[str] = []
    actions: set[str] = set()
    for block in blocks:
        action = parts.header_text(block, "Action").lower().split(" ")[0]
        recipient = _address(parts.header_text(block, "Final-Recipient")) or _address(
            parts.header_text(block, "Original-Recipient")
        )
        if not action and not recipient:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        actions.add(action)
        if recipient:
            recipients.append(recipient)
        if not action.startswith(("failed", "delayed", "error")):
            continue  # delivered, relayed, expanded: not a failure
        diagnostic = one_line(parts.header_text(block, "Diagnostic-Code").partition(";")[2])
        status = _status(parts.header_text(block, "Status"), diagnostic)
        if action.startswith("delayed"):
            kind: FailureKind = "soft"
        else:
            kind = failure_kind(status, diagnostic or parts.notification_text(msg))
        failures.append((kind, status, diagnostic, recipient))
    if not failures:
        said = ", ".join(sorted(a for a in actions if a)) or "nothing"
        return Verdict(
            kind="unrecognised",
            recipients=tuple(recipients),
            detector="rfc3464",
            notes=(f"a delivery report without a failure (Action: {said})",),
        )
    kind, status, diagnostic, _ = max(failures, key=lambda f: _SEVERITY[f[0]])
    return Verdict(
        kind=kind,
        status=status,
        diagnostic=diagnostic,
        recipients=tuple(recipients),
        detector="rfc3464",
    )


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part, however it was encoded."""
    if parts.content_type(part) != "message/delivery-status":
        return []
    payload = part.get_payload()
    if isinstance(payload, list) and all(isinstance(b, Message) for b in payload):
        return [b for b in payload if isinstance(b, Message)]
    # Base64 or quoted-printable status bodies (some Exchange and Lotus servers) reach
    # here as one string: decode, then split into blocks at the blank lines.
    text = parts.part_text(part)
    chunks = text.replace("\r\n", "\n").split("\n\n")
    return [parts.parse_headers(chunk.strip("\n") + "\n") for chunk in chunks if chunk.strip()]


def _status(field: str, diagnostic: str) -> str | None:
    """The Status field's code; the diagnostic's own code when the field is only generic."""
    code = enhanced_code(field)
    from_diagnostic = enhanced_code(diagnostic)
    if from_diagnostic and (code is None or code.endswith(".0.0")):
        return from_diagnostic
    return code


def _address(field: str) -> str:
    """`rfc822; reader@example.org` -> `reader@example.org`."""
    value = field.partition(";")[2] if ";" in field else field
    return value.strip().strip("<>").strip()
