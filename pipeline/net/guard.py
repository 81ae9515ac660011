"""Which addresses a fetch may reach, and an httpx transport that connects only to those.

What a feed or an item supplies (a redirect, a link) must not reach the machine's own
services, the private network or a cloud metadata address (169.254.169.254): only public
addresses. The check runs after DNS resolution, on every address the name resolves to,
and the connection then goes to the checked address itself, so a second DNS answer cannot
swap in another one (DNS rebinding). The Host header, TLS SNI and certificate checks still
use the host name: httpcore takes those from the request's origin, not from the address
the network backend connects to.

`NEWSLETTER_TEST_PUBLIC_NETS` (tests only: comma-separated networks, e.g. `127.0.0.2/32`)
makes addresses count as public, so tests can play a public feed on a loopback address.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import ssl
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import anyio
import httpcore
import httpx

from pipeline.errors import AddressRefused
from pipeline.net.pool import PooledTransport, QuickBackend

log = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
TEST_PUBLIC_NETS = "NEWSLETTER_TEST_PUBLIC_NETS"
_NAT64 = IPv6Network("64:ff9b::/96")
# Not public, though Python 3.11's `is_global` says so.
_NOT_GLOBAL = (IPv4Network("192.0.0.0/24"), IPv6Network("fec0::/10"))


def is_public(ip: IPAddress) -> bool:
    """Whether `ip` is an address on the public internet.

    An address that carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64
    `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is public only if that IPv4 address is.
    """
    if _test_public(ip):
        return True
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public(IPv4Address(int(ip) & 0xFFFF_FFFF))
        if ip.sixtofour is not None and not is_public(ip.sixtofour):
            return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in _NOT_GLOBAL if network.version == ip.version)
    )


def _test_public(ip: IPAddress) -> bool:
    networks = _test_networks(os.environ.get(TEST_PUBLIC_NETS, ""))
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks if network.version == ip.version)


@functools.cache
def _test_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    networks = tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
    if networks:
        log.warning("%s is set: %s count as public addresses (tests only)", TEST_PUBLIC_NETS, value)
    return networks


async def resolve(host: str, port: int | None) -> list[IPAddress]:
    """Every address `host` resolves to, as the system resolver reads it.

    The resolver also reads what a URL parser may leave as a name: `2130706433` and
    `0x7f.1` are 127.0.0.1 to it, and they are checked as such.
    """
    try:
        return [ip_address(host)]  # an address as such needs no resolver (nor its thread)
    except ValueError:
        pass
    answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _kind, _proto, _name, sockaddr in answers:
        address = ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def is_internal(url: httpx.URL) -> bool:
    """Whether `url`'s host is, or resolves to, a non-public address (one that does not
    resolve counts as public: the guarded fetch then fails on its own)."""
    try:
        addresses = await resolve(url.host, url.port)
    except OSError:
        return False
    return any(not is_public(address) for address in addresses)


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, refusing a host with any non-public address and
    connecting to the checked address (never resolving the name a second time)."""

    def __init__(self) -> None:
        self._backend = QuickBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        refused = next((address for address in addresses if not is_public(address)), None)
        if refused is not None:
            raise AddressRefused(host, str(refused))
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(path, "a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PublicOnlyTransport(PooledTransport):
    """An `httpx.AsyncHTTPTransport` whose connections reach public addresses only.

    Proxies from the environment are not used: through a proxy the address could not be
    checked.
    """

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(limits, PublicOnlyBackend(), ssl_context)
