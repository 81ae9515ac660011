"""How fast each provider turns messages into API calls, against a loopback fake that
answers at once (no ledger, no dispatcher: the provider's own cost and the HTTP round trip).

    .venv/bin/python -m bench.providers [--messages 20000] [--profile sendgrid]

Prints messages a second per provider and, with --profile, the top of a cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import multiprocessing.connection
import pstats
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from botocore.credentials import Credentials

from pipeline.render.personalize import Personalizable
from pipeline.send.message import OutgoingMessage
from pipeline.send.providers.base import Provider
from pipeline.send.providers.brevo import BrevoProvider
from pipeline.send.providers.mailgun import MailgunProvider
from pipeline.send.providers.postmark import PostmarkProvider
from pipeline.send.providers.sendgrid import SendGridProvider
from pipeline.send.providers.ses import SesProvider
from tests.providers.conftest import make_messages
from tests.providers.fake_http import FakeServer, Request, Response

PARAGRAPH = "<p style='margin:0 0 12px'>Das Quartiersbüro lädt zum Nachbarschaftsfest ein. </p>"
CONCURRENCY = 4


def answer(request: Request) -> Response:
    """Canned success in each API's shape; Postmark needs one entry per message."""
    path = request.path
    if path == "/email/batch":
        count = request.body.count(b'"MessageStream"')
        return Response.json(200, [{"ErrorCode": 0, "MessageID": "m"}] * count)
    if path.endswith("/mail/send"):
        return Response(202, headers={"X-Message-Id": "sg"})
    if path.endswith("/messages"):
        return Response.json(200, {"id": "<mg>", "message": "Queued. Thank you."})
    if path.endswith("/smtp/email"):
        return Response.json(201, {"messageIds": ["b"] * request.body.count(b'"params"')})
    return Response.json(200, {"MessageId": "ses"})


def serve(port_out: multiprocessing.connection.Connection) -> None:
    """The fake in its own process, so it does not share the provider's interpreter lock."""
    server = FakeServer(answer).start()
    port_out.send(server.port)
    threading.Event().wait()


def providers(url: str) -> dict[str, Callable[[], Provider]]:
    return {
        "postmark": lambda: PostmarkProvider("t", base_url=url),
        "sendgrid": lambda: SendGridProvider("t", base_url=url),
        "mailgun": lambda: MailgunProvider("t", "mg.example.org", base_url=url),
        "brevo": lambda: BrevoProvider("t", base_url=url),
        "ses": lambda: SesProvider("eu-central-1", base_url=url, credentials=Credentials("A", "s")),
    }


def issue_sized(messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
    """Messages whose HTML is the size of a real issue (~40 KB)."""
    template = messages[0].variant
    html = template.html.fill({n: f"%%NL:{n}%%" for n in template.html.names})
    big = replace(
        template, html=Personalizable.parse(html.replace("</body>", PARAGRAPH * 480 + "</body>"))
    )
    return [replace(message, variant=big) for message in messages]


async def pump(make: Callable[[], Provider], messages: list[OutgoingMessage]) -> float:
    provider = make()
    batches = [
        messages[i : i + provider.max_batch] for i in range(0, len(messages), provider.max_batch)
    ]
    queue = iter(batches)
    start = time.perf_counter()

    async def worker() -> None:
        for batch in queue:
            results = await provider.send_batch(batch)
            assert all(r.ok for r in results)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - start
    await provider.close()
    return len(messages) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--profile", default=None)
    args = parser.parse_args()
    receive, send = multiprocessing.Pipe(duplex=False)
    fake = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    fake.start()
    url = f"http://127.0.0.1:{receive.recv()}"
    messages = issue_sized(make_messages(args.messages))
    size = len(messages[0].html)
    print(f"{args.messages} messages, HTML {size // 1024} KB each, {CONCURRENCY} calls in flight")
    results = {}
    for name, make in providers(url).items():
        count = args.messages if name != "ses" else min(args.messages, 5_000)
        if args.profile == name:
            profile = cProfile.Profile()
            profile.enable()
        rate = asyncio.run(pump(make, messages[:count]))
        if args.profile == name:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(18)
        results[name] = round(rate)
        print(f"{name:9} {rate:>9,.0f} messages/s")
    fake.terminate()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
