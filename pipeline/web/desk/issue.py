"""The next issue as the desk shows it: preview, preflight, audience, send time, approval.

The desk shows the issue that would go out once its queued items are approved, so editors
see what they approve. With `issue.require_approval` off that is simply the next issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from pipeline.config import Config
from pipeline.db import items, now
from pipeline.errors import SendRefused
from pipeline.issue.build import audience, next_issue_content, render_full, render_variants
from pipeline.issue.model import IssueContent
from pipeline.issue.preflight import Finding, preflight
from pipeline.issue.test_send import make_test_message, send_test_message
from pipeline.queue.actions import apply_action
from pipeline.render import dates
from pipeline.render.issue import RenderedIssue
from pipeline.render.personalize import Personalizable, html_values
from pipeline.render.preview import local_pictures, sample_values
from pipeline.schedule.overview import planned_runs, scheduler_overview
from pipeline.tokens import SecretKeys
from pipeline.web.context import context_of
from pipeline.web.desk.pages import DESK, action, back_to, page, render
from pipeline.web.pages import ISSUE_HTML_POLICY, LOCALES, page_locale
from subscribers.store import active_ids

ISSUE = f"{DESK}/issue"
PREVIEW_HEADERS = {
    # The desk frames it: 'self' may embed it, nobody else.
    "Content-Security-Policy": f"{ISSUE_HTML_POLICY}; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def with_everything_approved(config: Config) -> Config:
    issue = config.issue.model_copy(update={"require_approval": False})
    return config.model_copy(update={"issue": issue})


def candidate_content(connection: sa.Connection, config: Config, at: datetime) -> IssueContent:
    """The next issue as it would be with its queued items approved."""
    return next_issue_content(connection, with_everything_approved(config), at)


@dataclass(frozen=True)
class IssueOverview:
    content: IssueContent
    findings: list[Finding]
    audience_size: int
    next_send: datetime | None
    waiting_for_approval: int
    next_send_by_config: bool = False
    """The next send is config.yaml's schedule's, not the running daemon's."""


def overview(config: Config, engine: sa.Engine, at: datetime) -> IssueOverview:
    with engine.connect() as connection:
        content = candidate_content(connection, config, at)
        readers = audience(connection, config.site.locale)
        size = connection.execute(
            sa.select(sa.func.count()).select_from(active_ids().subquery())
        ).scalar_one()
        next_send = scheduler_overview(connection).next_runs.get("send")
        by_config = next_send is None
        if by_config:  # the daemon has not run yet: config.yaml's schedule says when
            next_send = planned_runs(config, at).get("send")
        ids = [item.id for item in content.items]
        queued = connection.execute(
            sa.select(sa.func.count()).where(items.c.id.in_(ids), items.c.state == "queued")
        ).scalar_one()
    findings = preflight(render_variants(content, config, readers), config)
    waiting = int(queued) if config.issue.require_approval else 0
    return IssueOverview(content, findings, int(size), next_send, waiting, by_config)


def _issue_page(
    request: Request, editor: str, seen: IssueOverview, test_error: str = "", status: int = 200
) -> Response:
    values: dict[str, object] = {
        "overview": seen,
        "locales": LOCALES,
        "require_approval": context_of(request).config.issue.require_approval,
        "tested": request.query_params.get("tested", ""),
        "errors": [f for f in seen.findings if f.is_error],
        "warnings": [f for f in seen.findings if not f.is_error],
        "test_error": test_error,
        "next_send": _when(seen.next_send, page_locale(request), context_of(request).config),
    }
    return render(request, "issue.html.j2", values, editor=editor, status_code=status)


def _when(moment: datetime | None, locale: str, config: Config) -> str:
    if moment is None:
        return ""
    zone = config.site.timezone
    return f"{dates.long_date(moment, locale, zone)}, {dates.clock_time(moment, locale, zone)}"


@page
async def show_issue(request: Request, editor: str) -> Response:
    context = context_of(request)
    seen = await run_in_threadpool(overview, context.config, context.engine, now())
    return _issue_page(request, editor, seen)


def full_variant(
    config: Config, engine: sa.Engine, locale: str, keys: SecretKeys
) -> RenderedIssue | None:
    """The next issue as the preview and the test mail show it: calendar links signed."""
    with engine.connect() as connection:
        content = candidate_content(connection, config, now())
    if not content.items:
        return None
    return render_full(content, config, locale, preview_keys=keys)


@page
async def preview(request: Request, editor: str) -> Response:
    """The full issue in one language, as a sample reader sees it (shown in an iframe)."""
    locale = request.path_params["locale"]
    if locale not in LOCALES:
        return HTMLResponse("", status_code=404, headers=PREVIEW_HEADERS)
    context = context_of(request)
    variant = await run_in_threadpool(
        full_variant, context.config, context.engine, locale, context.secret_key
    )
    if variant is None:
        return HTMLResponse("", status_code=204, headers=PREVIEW_HEADERS)
    values = html_values(sample_values(context.config, locale))
    page_html = Personalizable.parse(variant.html).fill(values)
    # The content folder's pictures from this server: site.base_url may not be it (a demo).
    page_html = local_pictures(page_html, context.config.site.url, "/media/")
    return HTMLResponse(page_html, headers=PREVIEW_HEADERS)


def approve_next_issue(config: Config, engine: sa.Engine, at: datetime) -> int:
    with engine.connect() as connection:
        ids = [str(item.id) for item in candidate_content(connection, config, at).items]
    if ids:
        apply_action(engine, ids, "approve", at)
    return len(ids)


@action
async def approve_issue(request: Request, editor: str, form: FormData) -> Response:
    context = context_of(request)
    if context.config.issue.require_approval:
        await run_in_threadpool(approve_next_issue, context.config, context.engine, now())
    return back_to(request, ISSUE)


@action
async def send_test(request: Request, editor: str, form: FormData) -> Response:
    context = context_of(request)
    locale = str(form.get("locale", ""))
    locale = locale if locale in LOCALES else page_locale(request)
    variant = await run_in_threadpool(
        full_variant, context.config, context.engine, locale, context.secret_key
    )
    try:
        if variant is None:
            raise SendRefused("the next issue has no items")
        errors = [f for f in preflight([variant], context.config) if f.is_error]
        if errors:
            raise SendRefused("; ".join(str(f) for f in errors))
        message = make_test_message(variant, context.config, editor, now())
        await send_test_message(context.config, message)
    except SendRefused as exc:
        seen = await run_in_threadpool(overview, context.config, context.engine, now())
        return _issue_page(request, editor, seen, str(exc), 409)
    answer = back_to(request, ISSUE)
    answer.headers["location"] += f"&tested={locale}"
    return answer


routes = [
    Route(ISSUE, show_issue, methods=["GET"]),
    Route(f"{ISSUE}/preview/{{locale}}", preview, methods=["GET"]),
    Route(f"{ISSUE}/approve", approve_issue, methods=["POST"]),
    Route(f"{ISSUE}/test", send_test, methods=["POST"]),
]
