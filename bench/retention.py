"""Benchmark: the nightly retention run and a reader's withdrawal, on a large store.

Fills a fresh SQLite file and a schema of its own on PostgreSQL with 100,000 readers
(a third agreed to personalised statistics), 52 sent issues (one a fortnight) of 10
links, 1,000,000 clicks over two years (a quarter naming a consenting reader, a few
naming a reader who withdrew since) and 200,000 opens; then times `apply_retention`
(what the daemon runs each night) twice, the second time with nothing left to do, and
one reader's withdrawal (`anonymise_reader`, the preferences page's button) after it.

    .venv/bin/python bench/retention.py [--clicks 1000000] [--engines sqlite,postgresql]

No target in the issue; it runs at night, off every request. Printed so a regression shows.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import db
from pipeline.db import clicks, issue_links, issues, opens
from pipeline.report.retention import anonymise_reader, apply_retention
from subscribers.bulk import insert_rows
from subscribers.schema import subscribers

POSTGRES_URL = os.environ.get(
    "NEWSLETTER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
READERS = 100_000
ISSUES = 52
LINKS = 10
NOW = datetime(2026, 12, 7, 3, 40, tzinfo=UTC)
RETENTION_DAYS = 395
CHUNK = 50_000


def fill(engine: sa.Engine, click_count: int) -> None:
    """The store as two years of fortnightly issues leave it."""
    rng = random.Random(16)
    with engine.begin() as connection:
        insert_rows(
            connection,
            subscribers,
            (
                "email",
                "topics",
                "state",
                "stats_consent_at",
                "stats_consent_text_version",
                "created_at",
                "updated_at",
            ),
            (
                (
                    f"leser{n}@example.org",
                    [],
                    "active",
                    NOW - timedelta(days=800) if n % 3 == 0 else None,
                    "1" if n % 3 == 0 else None,
                    NOW,
                    NOW,
                )
                for n in range(READERS)
            ),
        )
        ids = list(
            connection.execute(sa.select(subscribers.c.id).order_by(subscribers.c.id)).scalars()
        )
        agreed = ids[::3]
        issue_rows = []
        for week in range(ISSUES):
            sent = NOW - timedelta(days=7 * 2 * (ISSUES - week))
            issue_id = connection.execute(
                sa.insert(issues)
                .values(
                    number=week + 1, subject=f"Ausgabe {week + 1}", state="sent", created_at=sent
                )
                .returning(issues.c.id)
            ).scalar_one()
            insert_rows(
                connection,
                issue_links,
                ("issue_id", "variant_no", "variant", "position", "url", "kind"),
                (
                    (issue_id, 1, "de", p, f"https://example.org/{week}/{p}", "link")
                    for p in range(1, LINKS + 1)
                ),
            )
            link_ids = list(
                connection.execute(
                    sa.select(issue_links.c.id).where(issue_links.c.issue_id == issue_id)
                ).scalars()
            )
            issue_rows.append((issue_id, sent, link_ids))

        def who() -> int | None:
            draw = rng.random()
            if draw < 0.25:
                return rng.choice(agreed)
            if draw < 0.26:  # composed while they agreed; they withdrew since
                return rng.choice(ids[1::3])
            return None

        made = 0
        while made < click_count:
            batch = min(CHUNK, click_count - made)
            rows = []
            for _ in range(batch):
                issue_id, sent, link_ids = rng.choice(issue_rows)
                rows.append(
                    (
                        issue_id,
                        rng.choice(link_ids),
                        sent + timedelta(hours=rng.random() * 72),
                        who(),
                    )
                )
            insert_rows(
                connection, clicks, ("issue_id", "link_id", "clicked_at", "subscriber_id"), rows
            )
            made += batch
        open_rows = []
        for _ in range(click_count // 5):
            issue_id, sent, _links = rng.choice(issue_rows)
            open_rows.append((issue_id, 1, sent + timedelta(hours=rng.random() * 72), who()))
        insert_rows(
            connection, opens, ("issue_id", "variant_no", "opened_at", "subscriber_id"), open_rows
        )


def bench(label: str, engine: sa.Engine, click_count: int) -> None:
    started = time.perf_counter()
    fill(engine, click_count)
    print(f"{label}: filled {click_count:,} clicks in {time.perf_counter() - started:.1f} s")
    for run in ("first night", "next night"):
        started = time.perf_counter()
        with engine.begin() as connection:
            done = apply_retention(connection, RETENTION_DAYS, NOW)
        print(f"{label}: retention, {run}: {time.perf_counter() - started:.2f} s ({done})")
    with engine.begin() as connection:
        reader = connection.execute(
            sa.select(clicks.c.subscriber_id).where(clicks.c.subscriber_id.is_not(None)).limit(1)
        ).scalar_one()
        kept = connection.execute(
            sa.select(sa.func.count()).where(clicks.c.subscriber_id == reader)
        ).scalar_one()
        started = time.perf_counter()
        done = anonymise_reader(connection, reader)
    print(
        f"{label}: one reader withdraws ({kept} clicks named them): "
        f"{(time.perf_counter() - started) * 1000:.1f} ms ({done})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; {READERS:,} readers, {args.clicks:,} clicks")
    for name in args.engines.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                engine = db.make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
                db.upgrade(engine)
                bench("SQLite", engine, args.clicks)
                engine.dispose()
            continue
        schema = f"bench_retention_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        engine = db.make_engine(url.render_as_string(hide_password=False))
        try:
            db.upgrade(engine)
            bench("PostgreSQL", engine, args.clicks)
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
