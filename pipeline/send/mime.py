"""An OutgoingMessage as an RFC 5322 message (multipart/alternative), for outbox and SMTP."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, localtime

from pipeline.send.message import OutgoingMessage


def _address(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def to_mime(message: OutgoingMessage) -> EmailMessage:
    """Build the MIME message; the SMTP policy refuses any header carrying a line break."""
    mime = EmailMessage(policy=SMTP)
    mime["From"] = _address(message.from_name, message.from_address)
    mime["To"] = _address(message.to_name, message.to_address)
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(localtime())
    mime["Message-ID"] = message.message_id
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    mime.add_alternative(message.html, subtype="html", charset="utf-8")
    return mime
