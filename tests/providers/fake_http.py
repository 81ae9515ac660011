"""A small HTTP/1.1 server on 127.0.0.1 for fake mail APIs, with faults on demand.

It runs its own event loop in a thread, so the code under test talks to it over a real
socket. Each fake API is a handler: request in, response out. Queue faults with `fail()`:
a status (429 with Retry-After, 500), a hang longer than the client's timeout, or a
dropped connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: object, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "hang", "drop", or "pass" (answer normally)
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0


Handler = Callable[[Request], Response]
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized"}


class FakeServer:
    def __init__(self, handler: Handler):
        self.handler = handler
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.connections = 0
        self.errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def start(self) -> FakeServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        async def cancel_connections() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_connections(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def _answer(self, request: Request) -> Response:
        """The fake API's answer; a broken expectation is kept for the test to report."""
        try:
            return self.handler(request)
        except Exception as exc:
            self.errors.append(f"{request.method} {request.path}: {exc!r}")
            return Response(599, repr(exc).encode())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while request := await _read_request(reader):
                self.requests.append(request)
                fault = None
                if self.faults:
                    fault = self.faults.pop(0)
                if fault is None or fault.kind == "pass":
                    response = self._answer(request)
                elif fault.kind == "drop":
                    writer.transport.abort()
                    return
                elif fault.kind == "hang":
                    await asyncio.sleep(fault.seconds)
                    writer.transport.abort()
                    return
                else:
                    response = Response.json(fault.status, {"message": "fault"}, fault.headers)
                writer.write(_encode(response))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    parts = urlsplit(target)
    return Request(method, parts.path, parse_qs(parts.query), headers, body)


def _encode(response: Response) -> bytes:
    reason = REASONS.get(response.status, "Status")
    head = [f"HTTP/1.1 {response.status} {reason}", f"Content-Length: {len(response.body)}"]
    head += [f"{name}: {value}" for name, value in response.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body
