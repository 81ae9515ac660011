"""How fast an issue's report is: the query for a 100,000-reader issue, and the command.

    .venv/bin/python bench/report.py [--readers 100000]
                                     [--database-url postgresql+psycopg://postgres@127.0.0.1/test]

Fills a fresh database (a SQLite file by default) with one sent issue as the send, the
webhooks, the bounce mailbox, the unsubscribe pages and `/r/` leave it: READERS readers in
three variants (German, German cut to one topic, English), one in ten of them agreed to
personalised statistics; 60 tracked links (20 a variant), 2 % bounced, 0.3 % unsubscribed;
clicks by a quarter of the readers (a tenth of those naming them) and a link scanner's
sweep over one mail in twenty. Then times, in this process, `issue_report` (the report
query: cold, then the median of five) and `headlines` (what `status` and the desk's list
read), and `newsletter report` and `newsletter report --json` as processes, start to exit.
The aim: the query under 1 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import db  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.db import clicks, deliveries, delivery_events, issue_links  # noqa: E402
from pipeline.report.issue_report import headlines, issue_report  # noqa: E402
from subscribers.schema import subscriber_events, subscribers  # noqa: E402
from tests.report.helpers import add_issue, add_item  # noqa: E402

NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))
SENT_AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CHUNK = 10_000
VARIANTS = ("de", "de:netzwerk", "en")
LINKS_PER_VARIANT = 20


def _chunks(rows: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    return [rows[at : at + CHUNK] for at in range(0, len(rows), CHUNK)]


def _insert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, object]]) -> None:
    for chunk in _chunks(rows):
        connection.execute(sa.insert(table), chunk)


def fill(engine: sa.Engine, readers: int, rng: random.Random) -> None:
    agreed_at = SENT_AT - timedelta(days=10)
    with engine.begin() as connection:
        item_ids = [
            add_item(
                connection,
                f"Beitrag {n}",
                ("report", "event", "news")[n % 3],
                ["netzwerk" if n % 2 else "veranstaltungen"],
            )
            for n in range(12)
        ]
        issue_id = add_issue(connection, 1, VARIANTS, item_ids)
        _insert(
            connection,
            subscribers,
            [
                {
                    "email": f"leser{n}@example.org",
                    "locale": "en" if n % 10 == 9 else "de",
                    "topics": ["netzwerk"] if n % 10 == 8 else [],
                    "state": "active",
                    "stats_consent_at": agreed_at if n % 10 == 3 else None,
                    "created_at": agreed_at,
                    "updated_at": agreed_at,
                }
                for n in range(readers)
            ],
        )
        ids = list(connection.execute(sa.select(subscribers.c.id)).scalars())
        _insert(
            connection,
            deliveries,
            [
                {
                    "issue_id": issue_id,
                    "subscriber_id": reader,
                    "state": "failed" if n % 500 == 7 else "sent",
                    "updated_at": SENT_AT,
                }
                for n, reader in enumerate(ids)
            ],
        )
        delivery_ids = list(connection.execute(sa.select(deliveries.c.id)).scalars())
        _insert(
            connection,
            delivery_events,
            [
                {
                    "delivery_id": delivery_id,
                    "provider": "postmark",
                    "kind": rng.choice(("hard", "soft", "block", "complaint")),
                    "detail": "550 5.1.1",
                    "received_at": SENT_AT + timedelta(hours=1),
                }
                for delivery_id in rng.sample(delivery_ids, readers // 50)
            ],
        )
        _insert(
            connection,
            subscriber_events,
            [
                {
                    "subscriber_id": reader,
                    "at": SENT_AT + timedelta(hours=2),
                    "state": "unsubscribed",
                    "cause": rng.choice(("unsubscribe link", "one-click unsubscribe")),
                    "issue_id": issue_id,
                }
                for reader in rng.sample(ids, readers * 3 // 1000)
            ],
        )
        link_rows = [
            {
                "issue_id": issue_id,
                "variant_no": number,
                "variant": key,
                "position": position,
                "url": f"https://example.org/beitrag/{position}",
                "item_id": item_ids[(position - 1) % len(item_ids)],
                "kind": "calendar" if position > 16 else "link",
            }
            for number, key in enumerate(VARIANTS, start=1)
            for position in range(1, LINKS_PER_VARIANT + 1)
        ]
        _insert(connection, issue_links, link_rows)
        links = list(connection.execute(sa.select(issue_links.c.id)).scalars())
        click_rows: list[dict[str, object]] = []
        for n, reader in enumerate(ids):
            if n % 4 == 0:
                for _ in range(rng.randint(1, 3)):
                    click_rows.append(
                        {
                            "issue_id": issue_id,
                            "link_id": rng.choice(links),
                            "clicked_at": SENT_AT + timedelta(minutes=rng.randint(1, 3000)),
                            "machine": None,
                            "subscriber_id": reader if n % 10 == 3 else None,
                        }
                    )
            if n % 20 == 1:  # a scanner's sweep: every link of the mail at once
                click_rows += [
                    {
                        "issue_id": issue_id,
                        "link_id": link,
                        "clicked_at": SENT_AT + timedelta(seconds=3),
                        "machine": "sweep",
                        "subscriber_id": None,
                    }
                    for link in links[:LINKS_PER_VARIANT]
                ]
        _insert(connection, clicks, click_rows)
    print(f"filled: {readers:,} readers, {len(click_rows):,} clicks, {len(links)} links")


def _median(run: object, times: int = 5) -> tuple[float, float]:
    """(the first run's seconds, the median of the next `times`)."""
    seconds = []
    for _ in range(times + 1):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
    return seconds[0], statistics.median(seconds[1:])


def _command(config_path: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [NEWSLETTER, "report", *args, "--config", str(config_path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/newsletter.db"
        admin = None
        if url.startswith("postgresql"):
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            name = f"bench_report_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = admin.url.set(database=name).render_as_string(hide_password=False)
        raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
        raw["database"] = {"url": url}
        config_path = Path(folder) / "config.yaml"
        config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        config = load_config(config_path)
        engine = db.make_engine(url)
        try:
            db.upgrade(engine)
            fill(engine, options.readers, random.Random(16))
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.execute(sa.text("ANALYZE"))
            with engine.connect() as connection:
                cold, warm = _median(lambda: issue_report(connection, config, 1))
                found = issue_report(connection, config, 1)
                _first, listed = _median(lambda: headlines(connection))
            print(f"engine: {engine.dialect.name}")
            print(
                f"report query: {cold * 1000:.0f} ms cold, {warm * 1000:.0f} ms median "
                f"(aim < 1000 ms): {found.deliveries.recipients:,} recipients, "
                f"{found.clicks.clicks:,} clicks, {found.clicks.machine_clicks:,} machine clicks"
            )
            print(f"headlines of the last issues (status, desk list): {listed * 1000:.0f} ms")
            table = statistics.median(_command(config_path) for _ in range(3))
            as_json = statistics.median(_command(config_path, "--json") for _ in range(3))
            print(
                f"newsletter report as a process: {table:.2f} s (table), {as_json:.2f} s (--json)"
            )
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
