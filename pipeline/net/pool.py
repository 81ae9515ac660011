"""httpx transports over httpcore pools whose connections answer the pool's questions cheaply.

Before every request httpcore's pool asks each idle connection whether the server closed it
("is_readable"). Its anyio stream answers by building anyio's whole mapping of socket
attributes (two system calls among them) each time: with 16 connections that was a third of
the HTTP cost of an all-304 collect. `QuickStream` keeps the socket and polls it directly.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable


class QuickStream(httpcore.AsyncNetworkStream):
    """An httpcore stream, asked "is_readable" without anyio's attribute mapping."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return QuickStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_socket_readable(self._socket)
        return self._stream.get_extra_info(info)


class QuickBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, its streams made `QuickStream`s."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return QuickStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return QuickStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PooledTransport(httpx.AsyncHTTPTransport):
    """An `httpx.AsyncHTTPTransport` whose pool connects through `backend`.

    httpx has no parameter for httpcore's network backend, so the pool it builds is
    replaced by one with the same settings. Proxies from the environment are not used.
    """

    def __init__(
        self,
        limits: httpx.Limits,
        backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        # Loading the CA bundle costs ~60 ms: one context serves both pools (and may be
        # shared with the caller's other transports).
        context = ssl_context or httpx.create_ssl_context()
        super().__init__(limits=limits, verify=context)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )
