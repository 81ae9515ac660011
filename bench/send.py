"""Send throughput and memory: N generated readers to the loopback mail service.

    .venv/bin/python bench/send.py [--subscribers 100000] [--mode all|template|full|single]
                                   [--provider sendgrid|mailgun|brevo|postmark|ses]
                                   [--database-url URL] [--profile]

Modes: `template` sends each variant's HTML once per call and only the readers' values
(SendGrid, Mailgun, Brevo); `full` a whole body per message, 500 a call (Postmark without
templates, SES, SMTP); `single` one message per call. Each mode delivers a fresh issue of
the sample content to every reader, end to end: the ledger filled, claimed, recorded.
The send runs in a process of its own, which reports its own peak memory and CPU time;
the loopback service runs in another. `--provider` sends through that mail service's own
module instead, to a fake of its API that answers at once (bench/providers.py), with the
service's batch size. `--profile` prints where the sender spends its time (cProfile;
BENCH_SORT=cumulative to sort by cumulative time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.memory import peak_rss_mb  # noqa: E402
from pipeline import db  # noqa: E402
from pipeline.collect import collect  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.db import items  # noqa: E402
from pipeline.send.providers import Provider  # noqa: E402
from tests.send.conftest import add_readers, start_loopback  # noqa: E402

PROVIDERS = ["sendgrid", "mailgun", "brevo", "postmark", "ses"]
# mode: (body, messages per call, calls in flight)
MODES = {"template": ("template", 1000, 4), "full": ("full", 500, 4), "single": ("full", 1, 16)}


def make_project(root: Path, database_url: str | None) -> Path:
    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    shutil.copytree(REPO / "content", root / "content")
    config_path = root / "config.yaml"
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw["database"] = {"url": database_url or f"sqlite:///{root / 'bench.db'}"}
    raw["provider"].update(rate_per_s=1_000_000, concurrency=4)
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return config_path


def requeue_sample_items(engine: sa.Engine) -> None:
    """Each mode sends a fresh issue of the same sample items."""
    with engine.begin() as connection:
        connection.execute(sa.update(items).values(state="queued", issue_id=None))


def child(config_path: Path, url: str, mode: str, profile: bool) -> None:
    from pipeline.environment import DEVELOPMENT_SECRET_KEY
    from pipeline.issue.build import build_issue
    from pipeline.send.dispatcher import deliver

    config = load_config(config_path)
    engine = db.make_engine(config.database.url)
    provider = _provider(url, mode)
    concurrency = MODES[mode][2] if mode in MODES else (16 if provider.max_batch == 1 else 4)
    provider_settings = config.provider.model_copy(update={"concurrency": concurrency})
    config = config.model_copy(update={"provider": provider_settings})
    started = time.perf_counter()
    built = build_issue(engine, config, db.now())
    ledger_s = time.perf_counter() - started

    def run() -> int:
        summary = deliver(engine, config, built.id, provider, DEVELOPMENT_SECRET_KEY)
        return summary.sent

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        sent = profiler.runcall(run)
        order = os.environ.get("BENCH_SORT", "tottime")
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(25)
    else:
        sent = run()
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "sent": sent,
        "elapsed_s": elapsed,
        "ledger_s": ledger_s,
        "peak_mb": peak_rss_mb(),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "per_call": provider.max_batch,
        "in_flight": concurrency,
    }
    print(json.dumps(figures))


def _provider(url: str, mode: str) -> Provider:
    """The loopback provider in one of MODES, or a mail service's module by name."""
    if mode in MODES:
        from tests.send.loopback_provider import LoopbackProvider

        body, max_batch, _ = MODES[mode]
        return LoopbackProvider(url, mode=body, max_batch=max_batch)
    from bench.providers import providers

    return providers(url)[mode]()


def signing_figures(rounds: int = 50_000) -> str:
    """What signing costs per reader, each signer on its own: the delivery token (envelope
    sender, X-Newsletter-Delivery, Message-ID) and the two links of every mail."""
    from pipeline.environment import DEVELOPMENT_SECRET_KEY as key
    from pipeline.tokens import DeliveryTokenMaker, TokenMaker, make_delivery_token

    def per_call_us(sign: Callable[[int], str]) -> float:
        started = time.perf_counter()
        for delivery_id in range(1, rounds + 1):
            sign(delivery_id)
        return (time.perf_counter() - started) / rounds * 1e6

    delivery = DeliveryTokenMaker(key)
    unsubscribe, preferences = TokenMaker(key, "unsubscribe"), TokenMaker(key, "preferences")
    one_by_one = per_call_us(lambda delivery_id: make_delivery_token(key, delivery_id))
    links = per_call_us(unsubscribe) + per_call_us(preferences)
    return (
        f"signing per reader: delivery token {per_call_us(delivery):.2f} µs "
        f"(make_delivery_token {one_by_one:.2f} µs), unsubscribe + preferences links "
        f"{links:.2f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--mode", choices=["all", *MODES], default="all")
    parser.add_argument("--provider", choices=PROVIDERS, help="instead of the loopback modes")
    parser.add_argument("--database-url", help="default: a SQLite file in a temp folder")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        config_path, url, mode = arguments.child
        child(Path(config_path), url, mode, arguments.profile)
        return
    print(signing_figures())
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config_path = make_project(root, arguments.database_url)
        config = load_config(config_path)
        engine = db.make_engine(config.database.url)
        db.upgrade(engine)
        collect(config, engine)
        started = time.perf_counter()
        add_readers(engine, arguments.subscribers)
        if engine.dialect.name == "sqlite":
            # The readers' inserts into the main file now, not during the first mode's send.
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        print(
            f"{arguments.subscribers:,} readers generated in {time.perf_counter() - started:.1f} s"
        )
        with _mail_service(root, arguments.provider) as url:
            rounds = (
                [arguments.provider]
                if arguments.provider
                else (list(MODES) if arguments.mode == "all" else [arguments.mode])
            )
            for mode in rounds:
                requeue_sample_items(engine)
                command = [sys.executable, __file__, "--child", str(config_path), url, mode]
                done = subprocess.run(
                    command + (["--profile"] if arguments.profile else []),
                    capture_output=True,
                    text=True,
                    check=True,
                )
                if arguments.profile:
                    print(done.stderr)
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                rate = figures["sent"] / figures["elapsed_s"]
                print(
                    f"{mode:>8} ({figures['per_call']}/call, {figures['in_flight']} in flight): "
                    f"{figures['sent']:,} sent in {figures['elapsed_s']:.1f} s "
                    f"= {rate:,.0f} recipients/s end to end (ledger filled in "
                    f"{figures['ledger_s']:.1f} s); the sender used {figures['cpu_s']:.1f} CPU s "
                    f"= {figures['sent'] / figures['cpu_s']:,.0f} recipients per CPU second; "
                    f"peak memory {figures['peak_mb']:.0f} MB"
                )


@contextmanager
def _mail_service(root: Path, provider: str | None) -> Iterator[str]:
    """The loopback service, or the named API's fake, each in a process of its own."""
    if provider is None:
        server, service = start_loopback(root)
        try:
            yield service.url
        finally:
            server.kill()
            server.wait()
        return
    from bench.providers import serve

    receive, send = multiprocessing.Pipe(duplex=False)
    fake = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    fake.start()
    try:
        yield f"http://127.0.0.1:{receive.recv()}"
    finally:
        fake.terminate()
        fake.join()


if __name__ == "__main__":
    main()
