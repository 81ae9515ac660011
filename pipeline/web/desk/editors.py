"""Re-reading `editors:` while `serve` runs, so that removing an editor needs no restart.

`serve` re-reads config.yaml on SIGHUP and every `every_s` seconds (a minute by default).
Only the editors' list is taken from it; the rest of the config stays as it was at start.
A config that does not read keeps the old list, with an error in the log naming the
file. The sessions of addresses that left the list are deleted; every request checks
the list as well, so a session ends even before its row is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.web.context import WebContext
from pipeline.web.desk.pages import is_editor
from pipeline.web.desk.sessions import end_sessions_of_non_editors

log = logging.getLogger(__name__)
RELOAD_EVERY_S = 60.0


def reload_editors(context: WebContext, path: Path) -> None:
    """Take `editors:` from the file now; end the sessions of those no longer listed."""
    try:
        fresh = load_config(path)
    except ConfigError as exc:
        log.error("%s; the editors' list is kept as it was", exc)
        return
    if fresh.editors != context.config.editors:
        context.config = context.config.model_copy(update={"editors": fresh.editors})
        log.info("editors' list re-read from %s: %d editors", path, len(fresh.editors))
    try:
        ended = end_sessions_of_non_editors(context.engine, context.config, is_editor)
    except sa.exc.OperationalError as exc:
        # Busy or away: requests check the list themselves; the rows go next time.
        log.warning("desk sessions not cleaned up, the database was busy: %s", exc)
        return
    if ended:
        log.info("%d desk sessions ended: their address left editors:", ended)


async def _watch(context: WebContext, path: Path, every_s: float, wake: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=every_s)
        wake.clear()
        try:
            await run_in_threadpool(reload_editors, context, path)
        except Exception:
            # A failure nobody foresaw must not end the watching for the life of `serve`:
            # the next signal or tick tries again, and the log says what went wrong.
            log.exception("re-reading the editors' list from %s failed; trying again later", path)


@contextlib.asynccontextmanager
async def editors_watched(
    context: WebContext, path: Path, every_s: float = RELOAD_EVERY_S
) -> AsyncIterator[None]:
    """Keep `context.config.editors` in step with the file while the app runs."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    try:
        loop.add_signal_handler(signal.SIGHUP, wake.set)
        on_signal = True
    except (NotImplementedError, RuntimeError, ValueError):
        # Not the main thread (an embedded server) or no SIGHUP: the timer alone re-reads.
        on_signal = False
    task = asyncio.create_task(_watch(context, path, every_s, wake))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if on_signal:
            loop.remove_signal_handler(signal.SIGHUP)
