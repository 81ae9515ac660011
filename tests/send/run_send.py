"""Deliver an issue to the loopback mail service in a process of its own, for the crash
test: `python -m tests.send.run_send CONFIG URL {plain|settling} [--resume]`. Builds the
next issue unless resuming; prints the summary as one JSON line at the end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sqlalchemy as sa

from pipeline import db
from pipeline.config import load_config
from pipeline.db import issues
from pipeline.environment import DEVELOPMENT_SECRET_KEY
from pipeline.issue.build import build_issue, unfinished_issue
from pipeline.send.dispatcher import deliver
from tests.send.loopback_provider import LoopbackProvider, SettlingLoopbackProvider


def main() -> None:
    config_path, url, kind, *flags = sys.argv[1:]
    config = load_config(Path(config_path))
    engine = db.make_engine(config.database.url)
    resume = "--resume" in flags
    if resume:
        with engine.connect() as connection:
            unfinished = unfinished_issue(connection)
            latest = connection.execute(sa.select(sa.func.max(issues.c.id))).scalar_one()
        # A send that finished just before its kill leaves nothing to resume: report it.
        issue_id = latest if unfinished is None else unfinished[0]
    else:
        issue_id = build_issue(engine, config, db.now()).id
    kinds = {"plain": LoopbackProvider, "settling": SettlingLoopbackProvider}
    provider = kinds[kind](url, max_batch=config.provider.max_batch or 500)
    summary = deliver(engine, config, issue_id, provider, DEVELOPMENT_SECRET_KEY, resume=resume)
    settled = summary.settlement
    print(
        json.dumps(
            {
                "counts": summary.counts,
                "confirmed": settled.confirmed,
                "resent": settled.resent,
                "newly_unsettled": settled.unsettled,
            }
        )
    )


if __name__ == "__main__":
    main()
