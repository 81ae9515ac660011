"""Rate limits shared by every `serve` process: a token bucket per limit and key, in the database.

A limit of `count` per `window_s` lets `count` requests through at once, then one more
every `window_s / count` seconds. Taking from a bucket is one upsert that refills it for
the time gone by and takes one token only if one is there, so processes on any number of
machines share one count (a row lock on PostgreSQL, the write lock on SQLite), and a
restart forgets nothing. Requests are keyed by the client's network: an IPv4 address, or
the /64 an IPv6 address belongs to, since one line or one host is usually given a whole
/64. Keys are stored as hashes: the table holds no address.

The refill uses each machine's clock; hosts sharing a database keep theirs in sync (NTP).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from pipeline.config import Config, RateLimit
from pipeline.db import dialect_insert, rate_limit_buckets

PRUNE_EVERY_S = 60


def limits_of(config: Config) -> dict[str, RateLimit]:
    """Every named limit of the config: `subscriptions.rate_limit` for sign-ups (the key it
    always had), `rate_limits.*` for the others."""
    subscriptions = config.subscriptions
    sign_up = RateLimit(count=subscriptions.rate_limit, window_s=subscriptions.rate_limit_window_s)
    return {"sign_up": sign_up, **dict(config.rate_limits)}


class Limiter:
    def __init__(
        self,
        engine: sa.Engine,
        limits: Mapping[str, RateLimit],
        clock: Callable[[], float] = time.time,
    ):
        self.engine = engine
        self.limits = dict(limits)
        self.clock = clock
        self._pruned_at = -math.inf

    async def refused(self, name: str, key: str) -> int | None:
        """Take one request from the bucket; None when allowed, else the seconds to wait."""
        return await run_in_threadpool(self.take, name, key)

    def take(self, name: str, key: str) -> int | None:
        with self.engine.begin() as connection:
            wait = self.take_in(connection, name, key)
        self._prune()
        return wait

    def take_in(self, connection: sa.Connection, name: str, key: str) -> int | None:
        """`take` inside the caller's transaction, so it is undone with it."""
        return self.take_counted(connection, name, key)[0]

    def take_counted(
        self, connection: sa.Connection, name: str, key: str
    ) -> tuple[int | None, int]:
        """`take_in`, and the whole requests left in the bucket after it (for RateLimit headers)."""
        limit = self.limits[name]
        rate = limit.count / limit.window_s
        now = self.clock()
        table = rate_limit_buckets
        key_hash = hashlib.sha256(f"{name}\0{key}".encode()).hexdigest()
        elapsed = sa.case((table.c.refilled_at < now, now - table.c.refilled_at), else_=0.0)
        refilled = table.c.tokens + elapsed * rate
        level = sa.case((refilled > limit.count, float(limit.count)), else_=refilled)
        statement = (
            dialect_insert(connection)(table)
            .values(limit_name=name, key_hash=key_hash, tokens=limit.count - 1, refilled_at=now)
            .on_conflict_do_update(
                index_elements=[table.c.limit_name, table.c.key_hash],
                set_={
                    "tokens": level - 1,
                    "refilled_at": sa.case(
                        (table.c.refilled_at < now, now), else_=table.c.refilled_at
                    ),
                },
                where=level >= 1,
            )
            .returning(table.c.tokens)
        )
        left = connection.execute(statement).scalar()
        if left is not None:
            return None, max(0, math.floor(float(left)))
        short = connection.execute(
            sa.select(1 - level).where(table.c.limit_name == name, table.c.key_hash == key_hash)
        ).scalar_one()
        return max(1, math.ceil(float(short) / rate)), 0

    def _prune(self) -> None:
        """Forget full buckets (untouched for a window): they say nothing a missing row does not."""
        now = self.clock()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        table = rate_limit_buckets
        with self.engine.begin() as connection:
            for name, limit in self.limits.items():
                connection.execute(
                    sa.delete(table).where(
                        table.c.limit_name == name, table.c.refilled_at < now - limit.window_s
                    )
                )
