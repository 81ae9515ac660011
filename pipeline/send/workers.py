"""`newsletter worker`: an extra delivery process joining whatever send is under way.

Any number of workers, on any number of machines, share one send through PostgreSQL:
each claims batches with FOR UPDATE SKIP LOCKED, the rate budget is one row in the
database, and a batch whose worker died is taken over once its lease has run out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from pipeline.config import Config
from pipeline.errors import ConfigError, PermanentProviderError
from pipeline.issue.build import unfinished_issue
from pipeline.send.dispatcher import deliver
from pipeline.send.providers import Provider
from pipeline.tokens import SecretKeys

log = logging.getLogger("newsletter.worker")


@dataclass
class WorkerReport:
    sends_joined: int = 0
    delivered: int = 0


def require_scale_out_database(engine: sa.Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise ConfigError(
            "database.url: extra workers need PostgreSQL to share a send "
            "(postgresql+psycopg://...); on SQLite `newsletter send` delivers on its own"
        )


def run_worker(
    engine: sa.Engine,
    config: Config,
    make_provider: Callable[[], Provider],
    secret_key: SecretKeys,
    stop: threading.Event,
    *,
    poll_s: float = 5.0,
) -> WorkerReport:
    """Deliver unfinished issues until `stop` is set; wait for work when there is none."""
    require_scale_out_database(engine)
    report = WorkerReport()
    while not stop.is_set():
        with engine.connect() as connection:
            unfinished = unfinished_issue(connection)
        if unfinished is None:
            stop.wait(poll_s)
            continue
        issue_id, number = unfinished
        try:
            summary = deliver(
                engine,
                config,
                issue_id,
                make_provider(),
                secret_key,
                take_over_expired=True,
                stop=stop,
            )
        except PermanentProviderError as exc:
            log.error("worker: issue %s: %s", number, exc)
            stop.wait(poll_s)
            continue
        report.sends_joined += 1
        report.delivered += summary.delivered_now
        if summary.delivered_now:
            log.info("worker: issue %s: delivered %s", number, summary.delivered_now)
        # Rows other workers hold are not ours to wait on; look again after a pause.
        stop.wait(poll_s if summary.delivered_now == 0 else 0)
    return report
