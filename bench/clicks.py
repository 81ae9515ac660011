"""How fast one `newsletter serve` process redirects tracked links, every click recorded.

    .venv/bin/python bench/clicks.py [SECONDS]

One issue (two variants of 20 links) in a SQLite file, 5,000 mails' click tokens. Prints
the latency (p50, p99, max) at an even 1,000 redirects a second for 10 s (after 1 s to
warm up), measured from when each request was due; then redirects a second with 32
keep-alive connections asking as fast as they are answered (for SECONDS, default 10),
and the server's CPU time a redirect meanwhile; and the clicks counted in the database
after the server stopped against the redirects answered: none may be missing.

The same for the app on uvicorn with asyncio + h11 and with uvloop + httptools (as
`uvicorn[standard]` brings them) where those are installed, and for a bare Starlette
redirect beside it: the machine's own ceiling, for figures from a shared machine.
The load comes from this process over loopback: raw HTTP/1.1, on uvloop if it is there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import sqlalchemy as sa
import yaml
from starlette.applications import Starlette

from pipeline import db
from pipeline.tokens import ClickTokenMaker
from tests.conftest import NEWSLETTER, free_port
from tests.web.tracked import READER, add_issue

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-secret-key-for-the-tracked-links-bench"
LINKS = 20
MAILS = 5000
CONNECTIONS = 32
MAX_CONNECTIONS = 256
RATE = 1000
LATENCY_S = 10
STANDARD = all(importlib.util.find_spec(name) for name in ("uvloop", "httptools"))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--server"]:
        return _run_server(*args[1:])
    seconds = float(args[0]) if args else 10.0
    root = Path(tempfile.mkdtemp(prefix="bench-clicks-"))
    try:
        config = _project(root)
        requests = _requests(db.make_engine(f"sqlite:///{root / 'clicks.db'}"))
        servers: list[tuple[str, list[str]]] = [("newsletter serve", _serve_command(config))]
        servers.append(("app, asyncio + h11", _runner("asyncio", "h11", config)))
        if STANDARD:
            servers.append(("app, uvloop + httptools", _runner("uvloop", "httptools", config)))
        for name, command in servers:
            _measure(name, command, requests, seconds, root)
        _bare(seconds)
    finally:
        shutil.rmtree(root)


def _project(root: Path) -> Path:
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw["database"] = {"url": f"sqlite:///{root / 'clicks.db'}"}
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    engine = db.make_engine(raw["database"]["url"])
    db.upgrade(engine)
    links = [f"https://example.org/beitrag/{n}" for n in range(1, LINKS + 1)]
    add_issue(engine, 1, {"de": links, "en": links})
    engine.dispose()
    return config


def _requests(engine: sa.Engine) -> list[bytes]:
    """One request per (mail, link): the mails of an hour-old batch, clicked link by link."""
    with engine.connect() as connection:
        issue_id = connection.execute(sa.select(db.issues.c.id)).scalar_one()
    engine.dispose()
    make = ClickTokenMaker(KEY)
    minute = int(time.time() // 60) - 60
    tokens = [make(issue_id, 1 + mail % 2, minute) for mail in range(MAILS)]
    headers = f"Host: bench\r\nUser-Agent: {READER}\r\n\r\n"
    return [
        f"GET /r/{token}.{position} HTTP/1.1\r\n{headers}".encode()
        for position in range(1, LINKS + 1)
        for token in tokens
    ]


def _serve_command(config: Path) -> list[str]:
    return [NEWSLETTER, "serve", "--config", str(config), "--port"]


def _runner(loop: str, http: str, config: Path) -> list[str]:
    return [sys.executable, __file__, "--server", loop, http, str(config)]


def _run_server(loop: str, http: str, config: str, port: str) -> None:
    """The app as `serve` builds it, on uvicorn with the given loop and HTTP parser."""
    import uvicorn

    from pipeline.cli.web_commands import BUSY_TIMEOUT_S, without_startup_garbage
    from pipeline.config import load_config
    from pipeline.web.app import create_app

    if loop == "bare":
        return uvicorn.run(_bare_app(), port=int(port), access_log=False, log_level="warning")
    settings = load_config(Path(config))
    engine = db.make_engine(settings.database.url, busy_timeout_s=BUSY_TIMEOUT_S)
    app = create_app(settings, engine, KEY)
    without_startup_garbage()
    uvicorn.run(
        app,
        port=int(port),
        loop=loop,
        http=http,
        proxy_headers=False,
        access_log=False,
        log_level="warning",
    )


def _bare_app() -> Starlette:
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    async def redirect(request: object) -> RedirectResponse:
        return RedirectResponse("https://example.org/beitrag/1", status_code=302)

    return Starlette(routes=[Route("/r/{token}", redirect)])


def _measure(
    name: str, command: list[str], requests: list[bytes], seconds: float, root: Path
) -> None:
    with _server(command, root) as server:
        load = _client_loop(_load(server, requests, seconds))
    engine = db.make_engine(f"sqlite:///{root / 'clicks.db'}")
    with engine.begin() as connection:
        counted = connection.scalar(sa.select(sa.func.count()).select_from(db.clicks))
        connection.execute(db.clicks.delete())
    engine.dispose()
    throughput, cpu_s, latencies, answered = load
    print(f"{name}:")
    print(f"  redirects:   {throughput:7,.0f} /s  ({CONNECTIONS} connections, {seconds:g} s)")
    print(f"  server CPU:  {cpu_s * 1e6:7.0f} µs a redirect  (user + system, all threads)")
    print(f"  at {RATE:,}/s:   {_percentiles(latencies)}  ({len(latencies):,} redirects)")
    missing = answered - (counted or 0)
    print(f"  recorded:    {counted:,} clicks of {answered:,} redirects ({missing} missing)")


def _bare(seconds: float) -> None:
    with _server(_runner("bare", "auto", Path()), None) as server:
        request = b"GET /r/x.1 HTTP/1.1\r\nHost: bench\r\n\r\n"
        throughput, cpu_s, latencies, _ = _client_loop(_load(server, [request], seconds))
    print("bare Starlette redirect (no token, no lookup, no recording; uvicorn's defaults):")
    print(f"  redirects:   {throughput:7,.0f} /s  ({CONNECTIONS} connections, {seconds:g} s)")
    print(f"  server CPU:  {cpu_s * 1e6:7.0f} µs a redirect")
    print(f"  at {RATE:,}/s:   {_percentiles(latencies)}")


class _server:
    """A server process on a free port, until it stopped as on SIGTERM (clicks written)."""

    def __init__(self, command: list[str], root: Path | None) -> None:
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        self.process = subprocess.Popen(
            [*command, str(self.port)],
            cwd=root,
            env=environment | {"NEWSLETTER_SECRET_KEY": KEY},
            stdout=subprocess.DEVNULL,
        )

    def __enter__(self) -> _server:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=5)
                return self
            except httpx.TransportError:
                assert self.process.poll() is None, "the server did not start"
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """The server's CPU time so far (Linux: /proc), its user and system time."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def _percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    if not ordered:
        return "no answers"

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return f"p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms"


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time; reads just enough of the answer."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.answer: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        length = 0
        start = head.find(b"\r\ncontent-length:")
        if start >= 0:
            line_end = head.find(b"\r\n", start + 2)
            length = int(head[start + 17 : line_end if line_end > 0 else None])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        del self.buffer[: end + 4 + length]
        assert self.answer is not None
        self.answer.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError("the server closed the connection"))

    async def ask(self, request: bytes) -> int:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.answer


async def _load(
    server: _server, requests: list[bytes], seconds: float
) -> tuple[float, float, list[float], int]:
    """(redirects a second flat out, the server's CPU seconds a redirect meanwhile,
    latencies at RATE, redirects answered in all)."""
    loop = asyncio.get_running_loop()

    async def connect() -> _Connection:
        _, protocol = await loop.create_connection(_Connection, "127.0.0.1", server.port)
        return protocol

    pool = [await connect() for _ in range(CONNECTIONS)]
    sent = _cycle(requests)
    answered = 0

    async def flat_out(connection: _Connection, until: float) -> None:
        nonlocal answered
        while time.perf_counter() < until:
            assert await connection.ask(next(sent)) == 302
            answered += 1

    # The even load first, from a warm start: a flat-out run before it would leave it
    # seconds of clicks to write, which is not what 1,000 a second costs.
    answered += len(await _paced(pool, connect, sent, RATE, 1))
    latencies = await _paced(pool, connect, sent, RATE, LATENCY_S)
    answered += len(latencies)
    started, done_before, cpu_before = time.perf_counter(), answered, server.cpu_seconds()
    await asyncio.gather(*(flat_out(c, started + seconds) for c in pool))
    throughput = (answered - done_before) / (time.perf_counter() - started)
    cpu_s = (server.cpu_seconds() - cpu_before) / (answered - done_before)
    for connection in pool:
        assert connection.transport is not None
        connection.transport.close()
    return throughput, cpu_s, latencies, answered


async def _paced(
    pool: list[_Connection],
    connect: Callable[[], Awaitable[_Connection]],
    sent: Iterator[bytes],
    rate: int,
    seconds: float,
) -> list[float]:
    """Requests due at an even `rate`, each on an idle connection (up to MAX_CONNECTIONS);
    latency from when it was due, so a server that falls behind shows it."""
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for connection in pool:
        idle.put_nowait(connection)
    latencies: list[float] = []
    tasks = set()

    async def one(due: float) -> None:
        if idle.empty() and len(pool) < MAX_CONNECTIONS:
            pool.append(await connect())
            idle.put_nowait(pool[-1])
        connection = await idle.get()
        assert await connection.ask(next(sent)) == 302
        latencies.append(time.perf_counter() - due)
        idle.put_nowait(connection)

    start = time.perf_counter()
    for number in range(int(rate * seconds)):
        due = start + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.ensure_future(one(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return latencies


Result = TypeVar("Result")


def _client_loop(load: Coroutine[Any, Any, Result]) -> Result:
    """The load on uvloop where it is installed: the less the client costs, the more of
    the machine is left to the server."""
    if STANDARD:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        result: Result = uvloop.run(load)
        return result
    return asyncio.run(load)


def _cycle(requests: list[bytes]) -> Iterator[bytes]:
    while True:
        yield from requests


if __name__ == "__main__":
    main()
