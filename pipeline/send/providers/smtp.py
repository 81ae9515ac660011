"""SMTP: aiosmtplib over a small pool of open connections, DKIM-signed when a key is set.

One call sends its messages one after another on one connection. A transient failure
before anything went out is retried by the dispatcher; after that, the rest of the call is
reported failed rather than risk sending the first messages twice (hence `max_batch` 1 by
default: a dropped connection then never costs more than the message in flight).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
import dkim

from pipeline.errors import PermanentProviderError, RetryableProviderError
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.mime import to_mime
from pipeline.send.providers.safety import without_bad_headers

SERVICE = "SMTP"
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"Reply-To",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"X-Newsletter-Delivery",
)
"""Gmail's one-click unsubscribe needs both List-Unsubscribe headers under the signature;
the delivery's token is signed too, so a returned copy shows it is as we sent it."""


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes

    @classmethod
    def load(cls, selector: str, domain: str, key_file: Path) -> DkimKey:
        return cls(selector, domain, key_file.read_bytes())

    def sign(self, message: bytes) -> bytes:
        signature: bytes = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + message


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: str  # "starttls", "tls" or "none"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30
    tls_context: ssl.SSLContext | None = None


class SmtpProvider:
    name = "smtp"
    deduplicates_retries = False

    def __init__(
        self,
        server: SmtpServer,
        *,
        max_batch: int | None = None,
        connections: int = 4,
        dkim_key: DkimKey | None = None,
    ):
        self.server = server
        self.max_batch = max_batch or 1
        self.dkim_key = dkim_key
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(connections)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(messages, self._send_checked)

    async def _send_checked(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        async with self._slots:
            client = self._idle.pop() if self._idle else await connect(self.server)
            results: list[SendResult] = []
            try:
                for message in messages:
                    results.append(await self._send(client, message))
            except RetryableProviderError as exc:
                await _quietly_close(client)
                if not results:
                    raise
                reason = f"not sent, connection lost after {len(results)} of this call: {exc}"
                results += [
                    SendResult(m.delivery_id, error=reason) for m in messages[len(results) :]
                ]
                return results
            except BaseException:
                await _quietly_close(client)
                raise
            self._idle.append(client)
            return results

    async def _send(self, client: aiosmtplib.SMTP, message: OutgoingMessage) -> SendResult:
        data = to_mime(message).as_bytes()
        if self.dkim_key is not None:
            data = self.dkim_key.sign(data)
        try:
            _refused, _reply = await client.sendmail(
                message.envelope_from, [message.to_address], data
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            if 400 <= refusal.code < 500:
                raise RetryableProviderError(
                    f"{SERVICE}: {refusal.code} {refusal.message}"
                ) from exc
            return SendResult(
                message.delivery_id, error=f"{SERVICE}: {refusal.code} {refusal.message}"
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise _classified(exc) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryableProviderError(f"{SERVICE}: connection failed ({exc})") from exc
        return SendResult(message.delivery_id, message.message_id)

    async def close(self) -> None:
        while self._idle:
            await _quietly_close(self._idle.pop())


async def connect(server: SmtpServer) -> aiosmtplib.SMTP:
    """An open, logged-in connection; a refused login or a 5xx greeting is permanent."""
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        username=server.username,
        password=server.password if server.username else None,
        use_tls=server.tls == "tls",
        start_tls=server.tls == "starttls",
        timeout=server.timeout_s,
        tls_context=server.tls_context,
    )
    try:
        await client.connect()
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise PermanentProviderError(
            f"{SERVICE}: login refused for {server.username!r} ({exc.code} {exc.message}); "
            "check provider.smtp.username and NEWSLETTER_PROVIDER_TOKEN"
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _classified(exc) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise RetryableProviderError(
            f"{SERVICE}: cannot connect to {server.host}:{server.port} ({exc})"
        ) from exc
    return client


def _classified(exc: aiosmtplib.SMTPResponseException) -> Exception:
    """4xx: try again later; 5xx (sender or content refused): stop the send."""
    text = f"{SERVICE}: {exc.code} {exc.message}"
    if 400 <= exc.code < 500:
        return RetryableProviderError(text)
    return PermanentProviderError(text)


async def _quietly_close(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
