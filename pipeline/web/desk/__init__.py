"""The editors' desk under /desk: sign in, the queue, items, the next issue, past issues."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pipeline.web.desk import account, auth, issue, items, queue, reports

routes: list[BaseRoute] = [
    *auth.routes,
    *account.routes,
    *queue.routes,
    *items.routes,
    *issue.routes,
    *reports.routes,
]
