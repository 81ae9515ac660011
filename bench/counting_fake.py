"""Fake mail APIs that answer at once and count who they were asked to mail.

    .venv/bin/python -m bench.counting_fake PORT_FILE

Serves SendGrid, Mailgun, Brevo, Postmark and Amazon SES at their own paths on one
loopback port (aiohttp's server, so the fake costs little CPU beside the sender), writes
the port to PORT_FILE, and counts each request's recipients by their delivery keys, read
from the request the way the real service would read them: SendGrid's custom_args,
Mailgun's recipient-variables, Brevo's X-Mailin-custom, Postmark's Metadata, SES's
EmailTags. `GET /_counts` answers what it received: recipients, distinct delivery keys,
requests, and recipients per request (smallest, largest).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web


class Tally:
    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.requests = 0
        self.sizes: Counter[int] = Counter()

    def add(self, keys: list[str]) -> None:
        self.requests += 1
        self.sizes[len(keys)] += 1
        self.keys.update(keys)

    def report(self) -> dict[str, Any]:
        received = sum(self.keys.values())
        return {
            "received": received,
            "distinct": len(self.keys),
            "more_than_once": sum(1 for n in self.keys.values() if n > 1),
            "requests": self.requests,
            "per_request": {str(size): n for size, n in sorted(self.sizes.items())},
        }


tally = Tally()


async def sendgrid(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    tally.add([p["custom_args"]["delivery_key"] for p in body["personalizations"]])
    return web.Response(status=202, headers={"X-Message-Id": "sg"})


async def mailgun(request: web.Request) -> web.Response:
    form = await request.post()
    variables = orjson.loads(str(form["recipient-variables"]))
    tally.add([values["delivery_key"] for values in variables.values()])
    return web.json_response({"id": "<mg@example.org>", "message": "Queued. Thank you."})


async def brevo(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    versions = body.get("messageVersions")
    if versions is None:
        keys = [body["headers"]["X-Mailin-custom"]]
    else:
        keys = [version["headers"]["X-Mailin-custom"] for version in versions]
    tally.add(keys)
    ids = [f"<b{n}@brevo>" for n in range(len(keys))]
    return web.json_response({"messageIds": ids}, status=201)


_METADATA_KEY = re.compile(rb'"Metadata":\{"delivery_key":"([^"]+)"\}')


async def postmark_batch(request: web.Request) -> web.Response:
    # Full bodies are gigabytes a send: the keys are found, not the whole JSON decoded,
    # so the fake does not take the sender's CPU. Each key must come with its message.
    body = await request.read()
    keys = [key.decode() for key in _METADATA_KEY.findall(body)]
    if len(keys) != body.count(b'"MessageStream":'):
        return web.json_response(
            {"ErrorCode": 402, "Message": "a message without its key"}, status=422
        )
    tally.add(keys)
    answer = [{"ErrorCode": 0, "MessageID": f"pm{n}"} for n in range(len(keys))]
    return web.Response(body=orjson.dumps(answer), content_type="application/json")


async def postmark_one(request: web.Request) -> web.Response:
    message = orjson.loads(await request.read())
    tally.add([message["Metadata"]["delivery_key"]])
    return web.json_response({"ErrorCode": 0, "MessageID": "pm"})


async def ses(request: web.Request) -> web.Response:
    if not request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
        return web.json_response({"__type": "MissingAuthenticationTokenException"}, status=403)
    body = orjson.loads(await request.read())
    tally.add([tag["Value"] for tag in body["EmailTags"] if tag["Name"] == "delivery_key"])
    return web.json_response({"MessageId": "ses"})


async def counts(_request: web.Request) -> web.Response:
    return web.json_response(tally.report())


def app() -> web.Application:
    application = web.Application(client_max_size=64 * 1024 * 1024)
    application.add_routes(
        [
            web.post("/v3/mail/send", sendgrid),
            web.post("/v3/{domain}/messages", mailgun),
            web.post("/smtp/email", brevo),
            web.post("/email/batch", postmark_batch),
            web.post("/email", postmark_one),
            web.post("/v2/email/outbound-emails", ses),
            web.get("/_counts", counts),
        ]
    )
    return application


async def serve(port_file: Path) -> None:
    runner = web.AppRunner(app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=256)
    await site.start()
    server = site._server
    if server is None or not server.sockets:
        raise RuntimeError("the fake did not start listening")
    port_file.write_text(json.dumps(server.sockets[0].getsockname()[1]))
    await asyncio.Event().wait()


def main() -> None:
    asyncio.run(serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
