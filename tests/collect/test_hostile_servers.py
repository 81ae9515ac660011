"""A collect of many feeds where three servers misbehave: one never answers, one sends an
endless body (5 GB, had it been read to the end), one resets the connection.

The three fail with their reason and the others are stored; the endless body is cut at
`collect.max_bytes` while it streams, so the server gets to send only a little of it.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.collect.conftest import FeedProject, Route
from tests.collect.helpers import feed_row, queue

GOOD_FEEDS = 24
MAX_BYTES = 1_000_000
ENDLESS_BYTES = 5 * 1024**3
CHUNK = b"<!-- " + b"x" * 65_000 + b" -->\n"


def _rss(number: int) -> bytes:
    entries = "".join(
        f"<item><title>Meldung {number}-{entry}</title>"
        f"<link>https://partner{number}.example.org/meldung/{entry}</link>"
        f"<guid>partner{number}-{entry}</guid>"
        "<pubDate>Tue, 03 Nov 2026 13:30:00 GMT</pubDate>"
        f"<description>Neues von Partner {number}.</description></item>"
        for entry in range(3)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Partner {number}</title><link>https://partner{number}.example.org/</link>"
        f"<description>Test</description>{entries}</channel></rss>"
    ).encode()


@dataclass
class HostileServer:
    """A raw TCP server on 127.0.0.1: `/hang` reads the request and never answers,
    `/endless` answers 200 and streams a body without a length until 5 GB are sent or the
    client goes away, `/reset` answers with a TCP reset."""

    listener: socket.socket = field(default_factory=socket.socket)
    endless_sent: int = 0
    held: list[socket.socket] = field(default_factory=list)

    def start(self) -> str:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            data = connection.recv(4096)
            if not data:
                connection.close()
                return
            request += data
        path = request.split(b" ")[1]
        if path == b"/hang":
            self.held.append(connection)  # open, silent, until the test ends
        elif path == b"/reset":
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        elif path == b"/endless":
            self._stream_endlessly(connection)

    def _stream_endlessly(self, connection: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n"
        try:
            connection.sendall(head + b"<?xml version='1.0'?><rss version='2.0'><channel>")
            while self.endless_sent < ENDLESS_BYTES:
                connection.sendall(CHUNK)
                self.endless_sent += len(CHUNK)
        except OSError:
            pass  # the client stopped reading and closed the connection
        finally:
            connection.close()

    def stop(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def hostile() -> Iterator[tuple[HostileServer, str]]:
    server = HostileServer()
    base = server.start()
    try:
        yield server, base
    finally:
        server.stop()


def test_a_hung_an_endless_and_a_reset_feed_fail_and_the_others_are_stored(
    feeds: FeedProject, hostile: tuple[HostileServer, str]
) -> None:
    server, base = hostile
    good = {}
    for number in range(GOOD_FEEDS):
        feeds.server.routes[f"/partner{number}.xml"] = Route(body=_rss(number))
        good[f"Partner {number}"] = f"/partner{number}.xml"
    feeds.configure(good, timeout_s=2, max_bytes=MAX_BYTES)
    feeds.project.edit_config(
        lambda raw: raw["sources"]["feeds"].extend(
            {"name": name, "url": f"{base}/{path}", "kind": "news"}
            for name, path in (("Stumm", "hang"), ("Endlos", "endless"), ("Abbruch", "reset"))
        )
    )

    report = feeds.collect()

    errors = {source.name: [str(e) for e in source.errors] for source in report.sources}
    (hung,) = errors["Stumm"]
    assert "timed out" in hung
    (endless,) = errors["Endlos"]
    assert f"larger than collect.max_bytes ({MAX_BYTES} bytes)" in endless
    # Cut while streaming: the server sent the cap and what the sockets' buffers hold,
    # nowhere near the 5 GB it would have sent to a client that read on.
    assert MAX_BYTES < server.endless_sent < 64 * MAX_BYTES
    (reset,) = errors["Abbruch"]
    assert reset.startswith(f"Abbruch ({base}/reset): ")
    for name in ("Stumm", "Endlos", "Abbruch"):
        health = feed_row(feeds.project, name)
        assert health["consecutive_failures"] == 1
        assert health["last_error"] == errors[name][0].split("): ", 1)[1]
    stored = queue(feeds.project)
    assert len(stored) == 3 * GOOD_FEEDS
    for number in range(GOOD_FEEDS):
        assert not errors[f"Partner {number}"]
        assert stored[f"Meldung {number}-0"]["state"] == "queued"
        assert feed_row(feeds.project, f"Partner {number}")["items_found"] == 3
