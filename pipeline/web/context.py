"""What every endpoint needs: config, database, signing key, and the sign-up rate limit.

Built once by `create_app` and kept on `app.state.context`; endpoints read it from there.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from starlette.requests import Request

from pipeline.config import Config
from pipeline.tokens import SecretKeys

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


class RateLimiter:
    """A sliding window per client address, in this process's memory."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            stamps = self._seen.setdefault(key, deque())
            while stamps and stamps[0] <= now - self.window_s:
                stamps.popleft()
            if len(stamps) >= self.limit:
                return False
            stamps.append(now)
            return True


FETCH_TIMEOUT_S = 10


def fetch_url(url: str) -> bytes:
    """GET for SNS certificates and subscription confirmations; no redirects followed."""
    response = httpx.get(url, timeout=FETCH_TIMEOUT_S, follow_redirects=False)
    response.raise_for_status()
    return response.content


@dataclass
class WebContext:
    config: Config
    engine: sa.Engine
    secret_key: SecretKeys
    webhook_secrets: dict[str, str | None]
    sns_certificate_url: re.Pattern[str] | None
    rate_limiter: RateLimiter
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    fetch: Callable[[str], bytes] = fetch_url


def context_of(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
