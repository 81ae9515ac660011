"""Mails the web sends on a thread of their own, off the request path.

An answer that waited for a mail (or for the checks that decide whether to send one)
would take longer when there is a mail to send, and so tell who is an editor. Requests
only queue a job; the thread runs the jobs in order, each in its own event loop, and
logs a failure instead of raising it into anyone's answer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)
Job = Callable[[], Coroutine[Any, Any, None]]
# Jobs waiting beyond this are dropped (and logged): the rate limits keep it far away.
MAX_WAITING = 1000


class MailQueue:
    def __init__(self) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue(MAX_WAITING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="web-mail", daemon=True)
                self._thread.start()
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            log.error("a mail was dropped: %d are waiting to be sent", MAX_WAITING)

    def close(self, timeout_s: float = 10) -> None:
        """Send what is waiting (within `timeout_s`), then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        thread.join(timeout_s)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                asyncio.run(job())
            except Exception:
                log.exception("a mail job failed")
