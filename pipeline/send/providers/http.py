"""What the HTTP mail APIs share: one pooled client, and sorting failures into retry or stop."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Mapping

import httpx
import orjson

from pipeline.errors import PermanentProviderError, RetryableProviderError

USER_AGENT = "newsletter-pipeline/0.1"


def make_client(base_url: str, headers: Mapping[str, str], timeout_s: float) -> httpx.AsyncClient:
    """A pooled client. TCP_NODELAY: without it a request's body write waits for the
    server's delayed ACK of its headers (~40 ms a call; measured in bench/providers.py)."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    transport = httpx.AsyncHTTPTransport(
        limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
        timeout=httpx.Timeout(timeout_s),
    )


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
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def request(
    client: httpx.AsyncClient, service: str, method: str, url: str, **kwargs: object
) -> httpx.Response:
    """Make the call; timeouts and dropped connections become RetryableProviderError."""
    try:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise RetryableProviderError(
            f"{service}: no answer in time ({type(exc).__name__})"
        ) from exc
    except httpx.TransportError as exc:
        raise RetryableProviderError(f"{service}: connection failed ({exc!r})") from exc


async def post_json(
    client: httpx.AsyncClient, service: str, path: str, body: object
) -> httpx.Response:
    return await request(
        client, service, "POST", path, content=json_bytes(body), headers=JSON_HEADERS
    )


def excerpt(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def raise_for_call(service: str, response: httpx.Response) -> None:
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


def json_body(response: httpx.Response) -> object:
    """The answer's JSON, or None: a 2xx with an unreadable body still means "accepted"."""
    try:
        return response.json()
    except ValueError:
        return None
