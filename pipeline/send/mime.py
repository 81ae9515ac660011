"""An OutgoingMessage as an RFC 5322 message (multipart/alternative), for outbox and SMTP.

The one place that builds the raw bytes every raw-MIME provider sends. People's names and
the subject go through the email package, which RFC 2047-encodes what is not ASCII. The
machine-made fields (Message-ID and the per-reader headers: List-Unsubscribe and the like)
are `RawField`s: folded at their own spaces and never encoded, which the package would do
to a List-Unsubscribe longer than a line (and Gmail would then show no unsubscribe button).
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, localtime

from pipeline.send.headers import RawField
from pipeline.send.message import OutgoingMessage


def _address(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def to_mime(message: OutgoingMessage) -> EmailMessage:
    """Build the MIME message; a field that cannot be sent raises ValueError.

    The SMTP policy refuses a line break in the encoded fields; `RawField` refuses a line
    break, 8-bit text or a word no line can hold in the raw ones.
    """
    mime = EmailMessage(policy=SMTP)
    mime["From"] = _address(message.from_name, message.from_address)
    mime["To"] = _address(message.to_name, message.to_address)
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(localtime())
    for name, value in {"Message-ID": message.message_id, **message.headers}.items():
        mime[name] = RawField(name, value)
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    mime.add_alternative(message.html, subtype="html", charset="utf-8")
    return mime
