"""A loopback mail service speaking a small batch JSON API over real HTTP/1.1.

Run as its own process (`python -m tests.send.loopback_server --port-file F`) so it
outlives a sender killed with SIGKILL and does not share the sender's CPU time.

    POST /batch      {"templates": {name: {"subject", "html", "text"}} | null,
                      "messages": [{"key", "to", "message_id", "headers",
                                    "template", "values"} | {..., "subject", "html", "text"}]}
                  -> 200 {"results": [{"id": "..."} | {"error": "..."}]}
    POST /accepted   {"keys": [...]} -> {"accepted": {key: id}}   (for settling)
    POST /faults     {"plan": ["ok", "429:1", "500", "401", "timeout:3", "drop"]}: one per
                     call;
                     timeout:S holds the call S seconds, then drops it unprocessed
    GET  /stats      {"calls": n, "accepted": n, "duplicates": n}

An address on the domain `invalid.example` is refused per message, as real APIs do.
With `--log FILE`, each accepted key is appended to FILE before the reply is written, so
the file is what a reader's inbox would hold even if the sender dies mid-call.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import orjson

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
DROPS = ("timeout", "drop")
REASONS |= {429: "Too Many Requests", 500: "Internal Server Error"}


class MailService:
    def __init__(self, log: TextIO | None):
        self.log = log
        self.accepted: dict[str, str] = {}
        self.received: Counter[str] = Counter()
        self.faults: list[str] = []
        self.calls = 0

    def batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.calls += 1
        if self.faults:
            fault = self.faults.pop(0)
            status, _, argument = fault.partition(":")
            if status == "ok":
                pass
            elif status == "429":
                return 429, {"error": "slow down"}, {"Retry-After": argument or "1"}
            elif status in ("500", "401"):
                return int(status), {"error": f"injected {status}"}, {}
        templates = body.get("templates") or {}
        results = []
        lines = []
        for message in body["messages"]:
            if message["to"].endswith("@invalid.example"):
                results.append({"error": "invalid recipient address"})
                continue
            if message.get("template", "") not in templates and not message.get("html"):
                return 400, {"error": "a message with neither template nor html"}, {}
            key = message["key"]
            self.received[key] += 1
            provider_id = self.accepted.setdefault(key, f"lb-{key}")
            lines.append(key)
            results.append({"id": provider_id})
        if self.log is not None and lines:
            self.log.write("\n".join(lines) + "\n")
            self.log.flush()
        return 200, {"results": results}, {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in header_lines if line)
                }
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
                if path == "/batch" and self.faults and self.faults[0].split(":")[0] in DROPS:
                    self.calls += 1
                    await asyncio.sleep(float(self.faults.pop(0).partition(":")[2] or 0))
                    writer.close()
                    return
                status, reply, extra = self.route(method, path, raw)
                payload = orjson.dumps(reply)
                lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
                lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
                lines += [f"{name}: {value}" for name, value in extra.items()]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def route(
        self, method: str, path: str, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "POST" and path == "/batch":
            return self.batch(orjson.loads(raw))
        if method == "POST" and path == "/accepted":
            keys = orjson.loads(raw)["keys"]
            return 200, {"accepted": {k: self.accepted[k] for k in keys if k in self.accepted}}, {}
        if method == "POST" and path == "/faults":
            self.faults = list(orjson.loads(raw)["plan"])
            return 200, {"plan": self.faults}, {}
        if method == "GET" and path == "/stats":
            duplicates = sum(1 for n in self.received.values() if n > 1)
            stats = {"calls": self.calls, "accepted": len(self.accepted), "duplicates": duplicates}
            return 200, stats, {}
        return 404, {"error": f"no route {method} {path}"}, {}


async def serve(port_file: Path, log_path: Path | None) -> None:
    log = log_path.open("a", encoding="utf-8") if log_path else None
    service = MailService(log)
    server = await asyncio.start_server(service.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    temporary = port_file.with_suffix(".tmp")
    temporary.write_text(str(port))
    temporary.replace(port_file)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--log", type=Path)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.port_file, arguments.log))


if __name__ == "__main__":
    main()
