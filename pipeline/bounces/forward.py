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

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, default
from email.utils import make_msgid

from pipeline.config import Config
from pipeline.environment import provider_token
from pipeline.errors import MailboxError

MAX_SUBJECT = 200


class ReplyForwarder:
    def __init__(self, config: Config, to: str, timeout_s: float = 30):
        self.to = to
        self._smtp = config.provider.smtp
        self._sender = config.site.sender
        self._timeout_s = timeout_s

    def forward(self, raw: bytes) -> None:
        """Send it; MailboxError when the relay refuses (the reply then stays unfiled and
        is tried again on the next read)."""
        message = self._wrap(raw)
        smtp = self._smtp
        try:
            client: smtplib.SMTP
            if smtp.tls == "tls":
                client = smtplib.SMTP_SSL(
                    smtp.host,
                    smtp.port,
                    timeout=self._timeout_s,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(smtp.host, smtp.port, timeout=self._timeout_s)
            with client:
                if smtp.tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
                token = provider_token()
                if smtp.username and token:
                    client.login(smtp.username, token)
                client.send_message(
                    message, from_addr=str(self._sender.address), to_addrs=[self.to]
                )
        except (OSError, smtplib.SMTPException) as exc:
            raise MailboxError(
                f"forwarding a reply to {self.to} through {smtp.host}:{smtp.port} failed: {exc}"
            ) from exc

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
