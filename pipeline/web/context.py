"""What every endpoint needs: config, database, signing key, and the rate limits.

Built once by `create_app` and kept on `app.state.context`; endpoints read it from there.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from starlette.requests import Request

from pipeline.config import Config
from pipeline.net import ACCEPT_ENCODING, read_bounded_sync
from pipeline.tokens import SecretKeys
from pipeline.web.click_recorder import ClickRecorder
from pipeline.web.issue_links import IssueLinks
from pipeline.web.limits import Limiter
from pipeline.web.mail_queue import MailQueue

# What a request that found the database locked or unreachable is told to wait.
BUSY_RETRY_AFTER_S = 5
WEBHOOK_PROVIDERS = ("postmark", "sendgrid", "mailgun", "brevo", "ses")


def webhook_secrets_from_env() -> dict[str, str | None]:
    """`NEWSLETTER_WEBHOOK_SECRET_<PROVIDER>`; SES needs none (SNS signs with certificates)."""
    return {
        name: os.environ.get(f"NEWSLETTER_WEBHOOK_SECRET_{name.upper()}") or None
        for name in WEBHOOK_PROVIDERS
        if name != "ses"
    }


def sns_certificate_pattern(region: str | None) -> re.Pattern[str] | None:
    """SNS signing certificates must come from the SNS host of the configured region."""
    if not region:
        return None
    host = re.escape(f"sns.{region}.amazonaws.com")
    return re.compile(rf"^https://{host}/[A-Za-z0-9_./-]+\.pem$")


FETCH_TIMEOUT_S = 10
FETCH_MAX_BYTES = 1_000_000
"""A certificate or a confirmation answer is a few KB; nothing larger is read."""


def fetch_url(url: str) -> bytes:
    """GET for SNS certificates and subscription confirmations; no redirects followed.

    The URL's host is the region's SNS host (see `sns_certificate_pattern`); the body is
    read under a cap, inflated in bounded steps.
    """
    headers = {"Accept-Encoding": ACCEPT_ENCODING}
    with httpx.stream(
        "GET", url, headers=headers, timeout=FETCH_TIMEOUT_S, follow_redirects=False
    ) as response:
        response.raise_for_status()
        return read_bounded_sync(response, FETCH_MAX_BYTES, "the cap for SNS answers")


@dataclass
class WebContext:
    config: Config
    engine: sa.Engine
    secret_key: SecretKeys
    webhook_secrets: dict[str, str | None]
    sns_certificate_url: re.Pattern[str] | None
    limiter: Limiter
    links: IssueLinks
    clicks: ClickRecorder
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    fetch: Callable[[str], bytes] = fetch_url
    mails: MailQueue = field(default_factory=MailQueue)
    local_url: str | None = None
    """Where `serve` listens, on a development site writing mails to the outbox only:
    the desk's sign-in links are then shown on its console too, for this address."""


def context_of(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


def client_address(request: Request) -> str:
    """The client's IP address, as `site.trusted_proxies` let it be told (see `create_app`).

    A trusted proxy reports it in X-Forwarded-For; anything there that is not an address
    (only a client on a trusted address itself can get it through) counts as "unknown".
    """
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


IPV6_NETWORK_PREFIX = 64


def client_network(request: Request) -> str:
    """What rate limits count a client by: its IPv4 address, or the /64 of its IPv6
    address, since one line or one host is usually given a whole /64."""
    address = client_address(request)
    if ":" not in address:
        return address
    return str(ipaddress.IPv6Network((address, IPV6_NETWORK_PREFIX), strict=False))
