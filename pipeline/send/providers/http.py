"""What the HTTP mail APIs share: one pooled client, and sorting failures into retry or stop.

The client is aiohttp's, not httpx's (which the feeds use): a call through httpx cost
~1.5 ms of CPU, through aiohttp ~0.15 ms (bench/send.py, one message per call), and a
send of one message per call is made of nothing else.
"""

from __future__ import annotations

import base64
import email.utils
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import formataddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from pipeline.errors import PermanentProviderError, RetryableProviderError

USER_AGENT = "newsletter-pipeline/0.1"
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class Reply:
    """A mail API's answer, read whole (answers are small)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content)


class ApiClient:
    """A pooled HTTP/1.1 client for one API: its base address and headers (credentials).

    The session is opened on the first call, inside the send's event loop.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout_s: float,
    ):
        self.base_url = base_url.rstrip("/")
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.proxy = env_proxy(self.base_url)
        self.session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> str:
        """`path` under the base address; an absolute address (a paging link) as it is."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        form: Sequence[tuple[str, str]] | None = None,
    ) -> Reply:
        """One call; `form` is sent as multipart/form-data."""
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
                headers=self.headers,
                timeout=self.timeout,
                proxy=self.proxy,
            )
        data: bytes | aiohttp.FormData | None = content
        if form is not None:
            data = aiohttp.FormData(form, default_to_multipart=True)
        async with self.session.request(
            method, self.url(path), data=data, headers=headers, params=params
        ) as response:
            return Reply(response.status, response.headers, await response.read())

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def env_proxy(base_url: str) -> str | None:
    """The proxy HTTPS_PROXY/HTTP_PROXY name for this API, unless NO_PROXY exempts it: the
    environment httpx (the feeds) honours. Read once: aiohttp's trust_env reads it on a
    thread for every call, which cost 0.7 ms a call (bench/send.py, one message a call)."""
    parts = urlsplit(base_url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP Basic authentication (RFC 7617)."""
    pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {pair}"}


@lru_cache(maxsize=16)
def sender_mailbox(name: str, address: str) -> str:
    """`Name <address>` of the sender, the same for every message of a send: encoded once
    (a name with an umlaut is RFC 2047-encoded, 60 µs a message in bench/send_command.py)."""
    return formataddr((name, address))


JSON_HEADERS = {"Content-Type": "application/json"}


def json_bytes(body: object) -> bytes:
    """The request body as JSON. orjson: a full-body batch is ~20 MB of JSON, which the
    standard library encodes about ten times slower (bench/providers.py)."""
    return orjson.dumps(body)


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # `²` is a digit to isdigit, none to int
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def request(client: ApiClient, service: str, method: str, path: str, **kwargs: Any) -> Reply:
    """Make the call; timeouts and dropped connections become RetryableProviderError."""
    try:
        return await client.request(method, path, **kwargs)
    except TimeoutError as exc:
        raise RetryableProviderError(f"{service}: no answer in time") from exc
    except aiohttp.ClientError as exc:
        raise RetryableProviderError(f"{service}: connection failed ({exc!r})") from exc


async def post_json(client: ApiClient, service: str, path: str, content: bytes) -> Reply:
    """POST a body the caller encoded with `json_bytes`: encoding at the call site lets the
    objects go before the call waits on the network (a full-body batch is megabytes)."""
    return await request(client, service, "POST", path, content=content, headers=JSON_HEADERS)


def excerpt(response: Reply, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def raise_for_call(service: str, response: Reply) -> None:
    """Classify a failed whole call: throttling and server trouble retry, the rest stops.

    Callers handle the statuses that mean one message is bad before calling this.
    """
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500 or status == 408:
        raise RetryableProviderError(
            f"{service}: HTTP {status} {excerpt(response, 120)}",
            retry_after_s=retry_after_s(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        raise PermanentProviderError(
            f"{service}: the credentials were refused (HTTP {status}); "
            "check NEWSLETTER_PROVIDER_TOKEN. "
            f"Answer: {excerpt(response)}"
        )
    raise PermanentProviderError(
        f"{service}: the call was refused (HTTP {status}): {excerpt(response)}"
    )


def json_body(response: Reply) -> object:
    """The answer's JSON, or None: a 2xx with an unreadable body still means "accepted"."""
    try:
        return response.json()
    except orjson.JSONDecodeError:
        return None
