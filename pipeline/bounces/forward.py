"""Forwarding a reader's reply to `bounces.forward_replies_to`, through `provider.smtp`.

Only an SMTP site forwards: the API services (Postmark, SendGrid...) are set up for
bulk mail to readers, and a reader's own words must not go out through a marketing
stream. With another provider, a reply stays unread in the mailbox, where someone reads
it (docs/operations.md says so).

The reply goes as an attachment `reply.eml` of a short mail from the site's sender, its
bytes unchanged (base64, so 8-bit text needs nothing of the relay); Reply-To is the
reader's From, so answering it answers the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, default
from email.utils import make_msgid

import aiosmtplib

from pipeline.config import Config
from pipeline.errors import MailboxError, ProviderError
from pipeline.send.providers import smtp_server
from pipeline.send.providers.smtp import connect

MAX_SUBJECT = 200


class ReplyForwarder:
    def __init__(self, config: Config, to: str):
        self.to = to
        self._server = smtp_server(config.provider)
        self._sender = config.site.sender

    def forward(self, raw: bytes) -> None:
        """Send it over the relay the issues go through (same TLS, same login); MailboxError
        when the relay refuses (the reply then stays unfiled and is tried again later)."""
        message = self._wrap(raw)
        server = self._server
        try:
            asyncio.run(self._send(message))
        except (ProviderError, aiosmtplib.SMTPException, OSError) as exc:
            raise MailboxError(
                f"forwarding a reply to {self.to} through {server.host}:{server.port} failed: {exc}"
            ) from exc

    async def _send(self, message: EmailMessage) -> None:
        client = await connect(self._server)
        try:
            await client.send_message(
                message, sender=str(self._sender.address), recipients=[self.to]
            )
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()

    def _wrap(self, raw: bytes) -> EmailMessage:
        original = BytesHeaderParser(policy=default).parsebytes(raw)
        subject = " ".join(str(original.get("Subject", "") or "").split())[:MAX_SUBJECT]
        message = EmailMessage(policy=SMTP)
        message["From"] = Address(self._sender.name, addr_spec=str(self._sender.address))
        message["To"] = self.to
        message["Subject"] = f"Fwd: {subject}" if subject else "Fwd: a reply to the newsletter"
        message["Message-ID"] = make_msgid(domain=str(self._sender.address).rpartition("@")[2])
        reader = _reply_address(original)
        if reader is not None:
            message["Reply-To"] = reader
        message.set_content(
            "A reader replied to the newsletter's bounce address; the reply is attached.\n"
            "Ein Leser hat an die Bounce-Adresse des Newsletters geantwortet; die Antwort "
            "ist angehängt.\n"
        )
        message.add_attachment(raw, maintype="application", subtype="octet-stream",
                               filename="reply.eml")  # fmt: skip
        return message


def _reply_address(original: EmailMessage) -> str | None:
    """The reader's From, when it is one well-formed address; else none (a forged or
    folded header must not become the Reply-To)."""
    try:
        addresses: tuple[Address, ...] = original["From"].addresses if original["From"] else ()
    except (AttributeError, IndexError, ValueError):
        return None
    if len(addresses) != 1 or "@" not in addresses[0].addr_spec:
        return None
    return str(addresses[0].addr_spec)


def make_forwarder(config: Config) -> ReplyForwarder | None:
    """The forwarder when `forward_replies_to` is set and the provider is SMTP; else None."""
    to = config.bounces.forward_replies_to
    if to is None or config.provider.name != "smtp":
        return None
    return ReplyForwarder(config, str(to))
