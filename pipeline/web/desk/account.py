"""The editor's own sessions: where they are signed in, and signing out everywhere."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.config import Config
from pipeline.render import dates
from pipeline.web.context import context_of
from pipeline.web.desk.pages import DESK, SESSION_COOKIE, action, current_session, page, render
from pipeline.web.desk.sessions import end_sessions_of, sessions_of
from pipeline.web.pages import page_locale

SESSIONS = f"{DESK}/sessions"


def _when(moment: datetime, locale: str, config: Config) -> str:
    zone = config.site.timezone
    return f"{dates.long_date(moment, locale, zone)}, {dates.clock_time(moment, locale, zone)}"


@page
async def show_sessions(request: Request, editor: str) -> Response:
    context = context_of(request)
    locale = page_locale(request)
    found = await run_in_threadpool(sessions_of, context.engine, editor, context.clock())
    this = current_session(request).id_hash
    rows = [
        {
            "this": session.id_hash == this,
            "user_agent": session.user_agent,
            "created": _when(session.created_at, locale, context.config),
            "last_seen": _when(session.last_seen_at, locale, context.config),
            "expires": _when(session.expires_at, locale, context.config),
        }
        for session in found
    ]
    return render(request, "sessions.html.j2", {"sessions": rows}, editor=editor)


@action
async def sign_out_everywhere(request: Request, editor: str, form: FormData) -> Response:
    await run_in_threadpool(end_sessions_of, context_of(request).engine, editor)
    answer = RedirectResponse(f"{DESK}/sign-in?lang={page_locale(request)}", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path=DESK)
    return answer


routes = [
    Route(SESSIONS, show_sessions, methods=["GET"]),
    Route(f"{SESSIONS}/sign-out-everywhere", sign_out_everywhere, methods=["POST"]),
]
