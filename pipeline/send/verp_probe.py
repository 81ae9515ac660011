"""Ask the SMTP relay whether it takes VERP senders, without sending anything.

Some relays refuse a `+` in the envelope sender (a login may send only as its own
address). The probe offers the bare bounce address and then a VERP address of the same
shape a send uses, each with the bounce address itself as the recipient (a relay with
Postfix's `smtpd_delay_reject` answers for the sender only at RCPT TO), and resets after
each: no DATA, no message.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import aiosmtplib

from pipeline.errors import RetryableProviderError
from pipeline.send.compose import verp_address
from pipeline.send.providers.smtp import SERVICE, SmtpServer, connect
from pipeline.tokens import make_delivery_token


@dataclass(frozen=True)
class SenderAnswer:
    sender: str
    refused_at: str | None = None
    """`MAIL FROM` or `RCPT TO` when the relay refused; None when it took the sender."""
    code: int = 250
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.refused_at is None

    @property
    def reply(self) -> str:
        return f"{self.code} {self.message}".strip()


@dataclass(frozen=True)
class VerpProbe:
    plain: SenderAnswer
    verp: SenderAnswer | None
    """None when the bare address was refused already: then nothing else was asked."""


def probe_token() -> str:
    """A token of the shape a send uses, signed with a throw-away key: it names no
    delivery, so a bounce of it (there is none: nothing is sent) would match nothing."""
    return make_delivery_token(secrets.token_hex(16), 0)


async def probe_verp(server: SmtpServer, bounce_address: str) -> VerpProbe:
    """The relay's answers; a relay that cannot be reached or logged in to raises
    ProviderError, as a send would."""
    client = await connect(server)
    try:
        plain = await _offer(client, bounce_address, bounce_address)
        verp = None
        if plain.accepted:
            verp = await _offer(client, verp_address(bounce_address, probe_token()), bounce_address)
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise RetryableProviderError(f"{SERVICE}: connection failed ({exc})") from exc
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
    return VerpProbe(plain, verp)


async def _offer(client: aiosmtplib.SMTP, sender: str, recipient: str) -> SenderAnswer:
    try:
        await client.mail(sender)
    except aiosmtplib.SMTPSenderRefused as exc:
        await client.rset()
        return SenderAnswer(sender, "MAIL FROM", exc.code, exc.message)
    try:
        await client.rcpt(recipient)
    except aiosmtplib.SMTPRecipientRefused as exc:
        await client.rset()
        return SenderAnswer(sender, "RCPT TO", exc.code, exc.message)
    await client.rset()
    return SenderAnswer(sender)
