"""Amazon SES v2: `SendEmail`, one message a call, simple content with our own headers.

SES has no per-recipient substitution outside stored templates (SendBulkEmail needs a
template kept in SES), so each call carries one full message, signed (SigV4, sigv4.py) with
botocore's standard AWS credential chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_SESSION_TOKEN, a profile, or an instance role.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formataddr
from urllib.parse import urlsplit

import orjson
from botocore.credentials import Credentials
from botocore.session import get_session

from pipeline.errors import ConfigError, PermanentProviderError, RetryableProviderError
from pipeline.send.message import OutgoingMessage, SendResult
from pipeline.send.providers.http import (
    ApiClient,
    Reply,
    excerpt,
    json_bytes,
    raise_for_call,
    request,
    retry_after_s,
    sender_mailbox,
)
from pipeline.send.providers.safety import without_bad_headers
from pipeline.send.providers.sigv4 import JsonPostSigner

SERVICE = "Amazon SES"
PATH = "/v2/email/outbound-emails"
THROTTLED = {"TooManyRequestsException", "LimitExceededException", "ThrottlingException"}
ADDRESS_PROBLEMS = ("address", "domain")


def endpoint(region: str) -> str:
    return f"https://email.{region}.amazonaws.com"


def request_body(message: OutgoingMessage) -> dict[str, object]:
    utf8 = "UTF-8"
    body: dict[str, object] = {
        "FromEmailAddress": sender_mailbox(message.from_name, message.from_address),
        "Destination": {"ToAddresses": [formataddr((message.to_name, message.to_address))]},
        "Content": {
            "Simple": {
                "Subject": {"Data": message.subject, "Charset": utf8},
                "Body": {
                    "Text": {"Data": orjson.Fragment(message.text_json()), "Charset": utf8},
                    "Html": {"Data": orjson.Fragment(message.html_json()), "Charset": utf8},
                },
                "Headers": [{"Name": n, "Value": v} for n, v in message.headers.items()],
            }
        },
        "EmailTags": [{"Name": "delivery_key", "Value": message.delivery_key}],
    }
    if message.reply_to:
        body["ReplyToAddresses"] = [message.reply_to]
    return body


def error_type(response: Reply) -> str:
    """The AWS error name: `x-amzn-ErrorType` (`Name:extra`) or the body's `__type`."""
    name = response.headers.get("x-amzn-ErrorType", "")
    if not name:
        try:
            name = str(response.json().get("__type", ""))
        except (ValueError, AttributeError):
            name = ""
    return str(name).split(":")[0].rpartition("#")[2]


class SesProvider:
    name = "ses"
    deduplicates_retries = False
    max_batch = 1

    def __init__(
        self,
        region: str,
        *,
        base_url: str | None = None,
        credentials: Credentials | None = None,
        timeout_s: float = 30,
    ):
        credentials = credentials or get_session().get_credentials()
        if credentials is None:
            raise ConfigError(
                "provider.name ses: no AWS credentials found; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment"
            )
        self.base_url = (base_url or endpoint(region)).rstrip("/")
        url = urlsplit(self.base_url + PATH)
        self.signer = JsonPostSigner(credentials, "ses", region, url.netloc, url.path)
        self.client = ApiClient(self.base_url, {}, timeout_s)

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return await without_bad_headers(messages, self._send_checked)

    async def _send_checked(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return [await self._send(message) for message in messages]

    async def _send(self, message: OutgoingMessage) -> SendResult:
        payload = json_bytes(request_body(message))
        headers = self.signer.headers(payload)
        response = await request(
            self.client, SERVICE, "POST", PATH, content=payload, headers=headers
        )
        if response.is_success:
            answer = response.json() if response.content else {}
            return SendResult(message.delivery_id, str(answer.get("MessageId")))
        kind = error_type(response)
        if kind in THROTTLED:
            raise RetryableProviderError(
                f"{SERVICE}: {kind}",
                retry_after_s=retry_after_s(response.headers.get("Retry-After")),
            )
        reason = f"{SERVICE}: {kind or response.status_code}: {excerpt(response, 200)}"
        if kind == "BadRequestException" and any(w in reason.lower() for w in ADDRESS_PROBLEMS):
            return SendResult(message.delivery_id, error=reason)
        if response.status_code in (400, 404):
            raise PermanentProviderError(reason)
        raise_for_call(SERVICE, response)
        raise PermanentProviderError(reason)

    async def close(self) -> None:
        await self.client.aclose()
