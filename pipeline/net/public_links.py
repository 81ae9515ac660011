"""Whether a link someone outside sent in (a partner's submission, an API caller's item)
names a public host, before it is stored and put in front of readers.

The guarded client already refuses to fetch a non-public address (`pipeline.net.guard`);
this refuses to store one: a newsletter must not send readers to `http://192.168.1.1/`,
`http://localhost:8080/` or a name only the office network knows. Names are not resolved
here (the answer could change before anyone follows the link): a host is refused when it
is a non-public address in any spelling a resolver accepts (`2130706433`, `0x7f.1`), or a
name that cannot be public (one label, `localhost`, `.local`, `.internal`, `fritz.box`, ...).
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, ip_address
from urllib.parse import urlsplit

from pipeline.net.guard import IPAddress, is_public

# Names under these never leave a local network (RFC 6761, 6762, 8375; common LAN ones).
_LOCAL_SUFFIXES = (
    "localhost", "local", "internal", "intranet", "lan", "home", "corp", "home.arpa",
    "localdomain", "fritz.box", "speedport.ip",
)  # fmt: skip


def link_refusal(url: str) -> str | None:
    """Why `url` may not be sent to readers, or None when its host can be public."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return "has no host name"
    address = _address(host)
    if address is not None:
        return None if is_public(address) else "leads to a non-public address"
    labels = host.split(".")
    if len(labels) == 1:
        return "names no public host (a name without a domain)"
    if any(host == s or host.endswith(f".{s}") for s in _LOCAL_SUFFIXES):
        return "names a host of a local network, not a public one"
    return None


def _address(host: str) -> IPAddress | None:
    """The address `host` spells, as a resolver reads it (inet_aton takes `0x7f.1`)."""
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        pass
    if all(part and (part.isdigit() or part.startswith("0x")) for part in host.split(".")):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
