"""Benchmark: `newsletter collect` of web pages without a feed, as a process.

40 partner sites (each on its own loopback address, as each partner has its own host), one
listing page of 20 entries each, no summary selector: the first collect reads 800 articles
(trafilatura) at `collect.per_host` requests a site at a time; the second finds every
listing page unchanged (304) and reads no article. Then the CPU cost of one article's main
text alone (decoding, trafilatura, shortening), on one core.

The server runs in a process of its own (asyncio, keep-alive, ETags) and competes for the
same cores; CPU times stay meaningful on a busy machine, wall times less so.

    .venv/bin/python bench/pages.py [--sites 40] [--entries 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.collect import NEWSLETTER, PARAGRAPH, Counts, check, run_collect, stored  # noqa: E402
from pipeline.collect.article import article_text, shorten_sensibly  # noqa: E402
from pipeline.collect.listing import decode_html  # noqa: E402


def host(site: int) -> str:
    return f"127.0.1.{site + 1}"


def listing_body(site: int, entries: int) -> bytes:
    """A WordPress-shaped news list: menu, entries with a title link and a German date."""
    items = "".join(
        f'<article class="post"><h2 class="entry-title"><a href="/artikel/{n}.html">'
        f"Meldung {n} von Partner {site}</a></h2>"
        f'<span class="entry-date">{1 + n % 28}. März 2027</span></article>'
        for n in range(entries)
    )
    menu = "".join(f'<li><a href="/seite/{n}">Seite {n}</a></li>' for n in range(30))
    return (
        f"<!DOCTYPE html><html lang=de><head><meta charset=utf-8><title>Partner {site}</title>"
        f"</head><body><nav><ul>{menu}</ul></nav><main>{items}</main>"
        "<footer>Impressum · Datenschutz</footer></body></html>"
    ).encode()


def article_body(site: int, entry: int) -> bytes:
    """About 9 KB: a menu, a cookie banner, five paragraphs, related links, a footer."""
    menu = "".join(f'<li><a href="/seite/{n}">Seite {n}</a></li>' for n in range(30))
    text = "".join(f"<p>{PARAGRAPH * 4}</p>" for _ in range(5))
    return (
        f"<!DOCTYPE html><html lang=de><head><meta charset=utf-8><title>Meldung {entry}</title>"
        f"</head><body><div id=cookie-banner>Diese Website verwendet Cookies.</div>"
        f"<nav><ul>{menu}</ul></nav><article><h1>Meldung {entry} von Partner {site}</h1>"
        f"{text}</article><aside><ul>{menu}</ul></aside><footer>Impressum</footer></body></html>"
    ).encode()


def _answer(body: bytes, etag: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
    return head % len(body) + b"ETag: %s\r\n\r\n" % etag + body


class _SiteProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, GET only; the site is the address connected to."""

    def __init__(self, entries: int, answered: Counts) -> None:
        self.entries, self.answered, self.buffer = entries, answered, b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.site = int(transport.get_extra_info("sockname")[0].rsplit(".", 1)[1]) - 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b"\r\n")[0].split(b" ")[1]
            etag = b'"liste-%d"' % self.site
            if path == b"/aktuelles/":
                if b"if-none-match: " + etag in head.lower():
                    self.transport.write(b"HTTP/1.1 304 Not Modified\r\nETag: %s\r\n\r\n" % etag)
                    self.answered[1] += 1
                    continue
                self.transport.write(_answer(listing_body(self.site, self.entries), etag))
            elif path.startswith(b"/artikel/"):
                entry = int(path.rsplit(b"/", 1)[1].split(b".")[0])
                self.transport.write(_answer(article_body(self.site, entry), b'"a"'))
            else:
                self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            self.answered[0] += 1


def serve(ready: multiprocessing.Queue[int], answered: Counts, sites: int, entries: int) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        first = await loop.create_server(lambda: _SiteProtocol(entries, answered), host(0), 0)
        port = first.sockets[0].getsockname()[1]  # every site on the same port
        hosts = [host(n) for n in range(1, sites)]
        others = await loop.create_server(lambda: _SiteProtocol(entries, answered), hosts, port)
        ready.put(port)
        await asyncio.gather(first.serve_forever(), others.serve_forever())

    asyncio.run(run())


def write_config(root: Path, port: int, sites: int) -> Path:
    config = yaml.safe_load((REPO / "config.yaml").read_text("utf-8"))
    config["database"] = {"url": f"sqlite:///{root / 'bench.db'}"}
    selectors = {"entry": "article.post", "title": "h2", "link": "h2", "date": ".entry-date"}
    config["sources"] = {
        "content_dir": str(root / "content"),
        "pages": [
            {
                "name": f"Partner {n}",
                "url": f"http://{host(n)}:{port}/aktuelles/",
                "selectors": selectors,
            }
            for n in range(sites)
        ],
    }
    config["collect"] = {"max_age_days": None}
    (root / "content").mkdir()
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


def article_cost_ms(rounds: int = 50) -> float:
    """CPU milliseconds for one article's summary, read from its bytes."""
    bodies = [article_body(0, n) for n in range(rounds)]
    article_text(decode_html(bodies[0], "text/html"), "http://127.0.1.1/artikel/0.html")  # warm
    started = time.process_time()
    for n, body in enumerate(bodies):
        text = article_text(decode_html(body, "text/html"), f"http://127.0.1.1/artikel/{n}.html")
        assert shorten_sensibly(text)
    return (time.process_time() - started) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    answered = multiprocessing.Array("l", 2, lock=False)
    server = multiprocessing.Process(
        target=serve, args=(ready, answered, args.sites, args.entries), daemon=True
    )
    server.start()
    port = ready.get(timeout=120)
    print(
        f"{args.sites} sites x {args.entries} entries, the articles read (no summary "
        f"selector); {os.cpu_count()} cores; `newsletter collect` as a process, start to exit",
        flush=True,
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = write_config(Path(folder), port, args.sites)
            subprocess.run(
                [str(NEWSLETTER), "db", "upgrade", "--config", str(config)],
                check=True,
                capture_output=True,
            )
            first = run_collect(NEWSLETTER, config)
            check(first, "first collect")
            items, healthy = stored(Path(folder) / "bench.db")
            requests = answered[0]
            second = run_collect(NEWSLETTER, config)
            check(second, "second collect")
    finally:
        server.terminate()
        server.join()
    articles = requests - args.sites
    print(
        f"first collect   {first.wall_s:6.2f} s wall, CPU {first.cpu_s:5.2f} s "
        f"(load {first.load:.1f}), PSS peak {first.pss_mb:4.0f} MB: {requests} answers 200 "
        f"({articles} articles), {items} items, {healthy} pages healthy",
        flush=True,
    )
    print(
        f"second (304s)   {second.wall_s:6.2f} s wall, CPU {second.cpu_s:5.2f} s "
        f"(load {second.load:.1f}), PSS peak {second.pss_mb:4.0f} MB: {answered[1]} answers "
        f"304, {answered[0] - requests} articles read again",
        flush=True,
    )
    per_article = (first.cpu_s - second.cpu_s) / max(articles, 1) * 1000
    print(
        f"per article: {per_article:.1f} ms of the command's CPU (first minus second), "
        f"{article_cost_ms():.1f} ms for the main text alone",
        flush=True,
    )


if __name__ == "__main__":
    main()
