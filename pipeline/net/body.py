"""Reading a response body under a byte cap, inflating it ourselves in bounded steps.

httpx inflates gzip and deflate as it reads, whole chunks at a time: 300 KB of gzip can
become 300 MiB before a cap on the decoded size is even looked at. `BoundedBody` takes the
raw bytes (`Response.aiter_raw()`), inflates each step only up to what the cap still allows,
and stops as soon as the decoded body would pass it.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

import httpx

from pipeline.errors import BodyRefused

ACCEPT_ENCODING = "gzip, deflate"
"""What fetches ask for: the encodings `BoundedBody` can inflate in bounded steps."""

_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # zlib reads the header and takes either
_RAW_DEFLATE = -zlib.MAX_WBITS


class BoundedBody:
    """The decoded body of one response, refused once it passes `max_bytes`.

    `cap` names the limit in the error (`collect.max_bytes`), so the reader knows what to
    raise if the body is legitimate.
    """

    def __init__(self, content_encoding: str, max_bytes: int, cap: str) -> None:
        encoding = content_encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise BodyRefused(f"the body is in an encoding not asked for ({content_encoding})")
        self._inflate = None if encoding in ("", "identity") else zlib.decompressobj(_GZIP_OR_ZLIB)
        self._deflate = encoding == "deflate"
        self._max_bytes = max_bytes
        self._cap = cap
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, raw: bytes) -> None:
        if self._inflate is None:
            self._keep(raw)
            return
        try:
            self._inflate_bounded(raw)
        except zlib.error as exc:
            if not (self._deflate and self._size == 0):
                raise BodyRefused(f"the body cannot be inflated ({exc})") from exc
            # "deflate" sent as raw deflate without the zlib header, as some servers do.
            self._deflate = False
            self._inflate = zlib.decompressobj(_RAW_DEFLATE)
            self.add(raw)

    def _inflate_bounded(self, data: bytes) -> None:
        assert self._inflate is not None
        while True:
            room = self._max_bytes - self._size + 1  # one byte past the cap is enough to know
            out = self._inflate.decompress(data, room)
            self._keep(out)
            data = self._inflate.unconsumed_tail
            if not data and len(out) < room:
                return

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max_bytes:
            raise BodyRefused(f"larger than {self._cap} ({self._max_bytes} bytes)")
        if data:
            self._chunks.append(data)

    def finish(self) -> bytes:
        return b"".join(self._chunks)


def _body_for(response: httpx.Response, max_bytes: int, cap: str) -> BoundedBody:
    declared = response.headers.get("content-length", "")
    if (
        declared.isascii() and declared.isdigit() and int(declared) > max_bytes
    ):  # packed, it is larger still unpacked
        raise BodyRefused(f"larger than {cap} ({declared} > {max_bytes} bytes)")
    return BoundedBody(response.headers.get("content-encoding", ""), max_bytes, cap)


async def read_bounded(response: httpx.Response, max_bytes: int, cap: str) -> bytes:
    """The decoded body of a streamed response, or BodyRefused past `max_bytes`."""
    body = _body_for(response, max_bytes, cap)
    raw: AsyncIterator[bytes] = response.aiter_raw()
    async for chunk in raw:
        body.add(chunk)
    return body.finish()


def read_bounded_sync(response: httpx.Response, max_bytes: int, cap: str) -> bytes:
    """`read_bounded` for a streamed response of a sync `httpx.Client`."""
    body = _body_for(response, max_bytes, cap)
    raw: Iterator[bytes] = response.iter_raw()
    for chunk in raw:
        body.add(chunk)
    return body.finish()
