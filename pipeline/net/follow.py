"""Following redirects one hop at a time, so that every hop goes through the transport's
address check (the client is made with `follow_redirects=False`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

MAX_REDIRECTS = 5


@dataclass
class Followed:
    response: httpx.Response
    """The last answer, streamed: its body is not read yet."""
    redirects: list[int]
    """The status of each redirect on the way, the first one first."""


@asynccontextmanager
async def following(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    max_redirects: int = MAX_REDIRECTS,
) -> AsyncIterator[Followed]:
    """Send `method url` and follow its redirects (as httpx would: 303 turns into GET,
    credentials stay on their origin); httpx.TooManyRedirects past `max_redirects`."""
    request = client.build_request(method, url, headers=headers)
    redirects: list[int] = []
    while True:
        response = await client.send(request, stream=True)
        if response.next_request is None:
            break
        await response.aclose()
        redirects.append(response.status_code)
        if len(redirects) > max_redirects:
            raise httpx.TooManyRedirects(f"more than {max_redirects} redirects", request=request)
        request = response.next_request
    try:
        yield Followed(response, redirects)
    finally:
        await response.aclose()
