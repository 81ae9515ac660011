"""`/api/v1/issues`: the issues that have gone out, one issue's report, and the next
issue's preview.

Only issues whose mails have gone out are listed or found (as the archive shows them): a
built issue that was not mailed yet answers as a number that does not exist would. The
list's figures come from the deliveries and clicks tables in two queries a page, the
same totals `newsletter report` shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Security
from pydantic import BaseModel, Field
from starlette.responses import Response

from pipeline.db import issues, now
from pipeline.issue.build import next_issue_content, render_full
from pipeline.render.personalize import Personalizable, html_values
from pipeline.render.preview import sample_values
from pipeline.report import deliveries as ledger
from pipeline.report.clicks import clicks_by_issue
from pipeline.report.figures import Clicks, Deliveries
from pipeline.report.issue_report import issue_report
from pipeline.web.api.auth import Caller, required
from pipeline.web.api.cursor import CursorParameter, Limit, Page, after_id, next_cursor
from pipeline.web.api.json import Json
from pipeline.web.api.problems import ApiProblem, Problem
from pipeline.web.published import issue_has_gone_out

router = APIRouter(tags=["issues"])
READ = ["issues:read"]
IssueNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="The issue's number.")]
State = Literal["sending", "sent"]
Order = Literal["newest", "number"]
MEDIA = {"html": "text/html; charset=utf-8", "text": "text/plain; charset=utf-8"}


class Counts(BaseModel):
    recipients: int = Field(description="Messages the issue was to send.")
    sent: int = Field(description="Handed over to the mail service.")
    delivered: int = Field(description="Sent and not bounced or blocked.")
    bounced: int
    complaints: int
    unsubscribed: int = Field(description="Readers who left from this issue.")
    clicks: int = Field(description="Readers' clicks on the issue's links (machines' apart).")
    machine_clicks: int


class IssueOut(BaseModel):
    number: int
    subject: str
    state: State = Field(description="sending: its mails are still going out.")
    created_at: datetime
    sent_at: datetime | None = Field(description="When the send finished; null: not yet.")
    archive_url: str = Field(description="The issue's page in the site's archive.")
    counts: Counts


def _out(caller: Caller, row: Any, figures: Deliveries, clicked: Clicks) -> IssueOut:
    return IssueOut(
        number=row.number,
        subject=row.subject,
        state="sent" if row.state == "sent" else "sending",
        created_at=row.created_at,
        sent_at=row.finished_at,
        archive_url=f"{caller.context.config.site.url}/archive/{row.number}",
        counts=Counts(
            recipients=figures.recipients,
            sent=figures.sent,
            delivered=figures.delivered,
            bounced=figures.bounced,
            complaints=figures.complaints,
            unsubscribed=figures.unsubscribed,
            clicks=clicked.clicks,
            machine_clicks=clicked.machine_clicks,
        ),
    )


def _issues(caller: Caller, query: sa.Select[Any]) -> list[IssueOut]:
    with caller.context.engine.connect() as connection:
        rows = connection.execute(query.where(issue_has_gone_out())).all()
        ids = [row.id for row in rows]
        figures = ledger.by_issue(connection, ids)
        clicked = clicks_by_issue(connection, ids)
    return [_out(caller, row, figures[row.id], clicked[row.id]) for row in rows]


def _gone_out(caller: Caller, number: int) -> None:
    """A 404 unless issue `number` has gone out."""
    query = sa.select(issues.c.id).where(issues.c.number == number, issue_has_gone_out())
    with caller.context.engine.connect() as connection:
        if connection.execute(query).first() is None:
            raise ApiProblem(404, f"No issue {number} has gone out.")


@router.get(
    "/issues",
    operation_id="list_issues",
    summary="The issues that have gone out, a page at a time",
    response_model=Page[IssueOut],
    responses={
        200: {
            "description": "A page of issues.",
            "links": {
                "GetIssue": {
                    "operationId": "get_issue",
                    "parameters": {"number": "$response.body#/data/0/number"},
                },
                "GetIssueReport": {
                    "operationId": "get_issue_report",
                    "parameters": {"number": "$response.body#/data/0/number"},
                },
            },
        }
    },
)
def list_issues(
    caller: Annotated[Caller, Security(required, scopes=READ)],
    order: Annotated[
        Order, Query(description="newest: the last issue first; number: issue 1 first.")
    ] = "newest",
    limit: Limit = 50,
    cursor: CursorParameter = None,
) -> Page[IssueOut]:
    after = after_id(cursor)  # the last number of the page before
    query = sa.select(issues)
    if order == "number":
        query = query.where(issues.c.number > after).order_by(issues.c.number)
    else:
        if after:
            query = query.where(issues.c.number < after)
        query = query.order_by(issues.c.number.desc())
    found = _issues(caller, query.limit(limit + 1))
    return Page(data=found[:limit], next_cursor=next_cursor([i.number for i in found], limit))


@router.get(
    "/issues/next/preview",
    operation_id="preview_next_issue",
    summary="The next issue as it would go out now, as HTML or text",
    response_class=Response,
    responses={
        200: {
            "description": "The full issue in the site's language, for a sample reader.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        409: {"model": Problem, "description": "Nothing is due for the next issue."},
    },
)
def preview_next_issue(
    caller: Annotated[Caller, Security(required, scopes=READ)],
    format: Annotated[
        Literal["html", "text"], Query(description="html (the mail's HTML) or text.")
    ] = "html",
) -> Response:
    """As `newsletter preview` builds it: the items due now (with `issue.require_approval`,
    only approved ones), in the site's language with every topic (the full issue, as the
    archive shows it), a sample reader's greeting and links, calendar links signed."""
    context = caller.context
    config = context.config
    with context.engine.connect() as connection:
        content = next_issue_content(connection, config, now())
    if not content.items:
        raise ApiProblem(409, "Nothing is due for the next issue: there is no preview.")
    rendered = render_full(content, config, config.site.locale, preview_keys=context.secret_key)
    values = sample_values(config, config.site.locale)
    if format == "html":
        body = Personalizable.parse(rendered.html).fill(html_values(values))
    else:
        body = Personalizable.parse(rendered.text).fill(values)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type=MEDIA[format], headers=headers)


@router.get(
    "/issues/{number}",
    operation_id="get_issue",
    summary="One issue that has gone out",
    response_model=IssueOut,
)
def get_issue(
    number: IssueNumber, caller: Annotated[Caller, Security(required, scopes=READ)]
) -> IssueOut:
    found = _issues(caller, sa.select(issues).where(issues.c.number == number))
    if not found:
        raise ApiProblem(404, f"No issue {number} has gone out.")
    return found[0]


@router.get(
    "/issues/{number}/report",
    operation_id="get_issue_report",
    summary="What an issue did: exactly `newsletter report N --json`",
    response_model=dict[str, Any],
    responses={200: {"description": "The report, with the keys of `newsletter report N --json`."}},
)
def get_issue_report(
    number: IssueNumber, caller: Annotated[Caller, Security(required, scopes=READ)]
) -> Json:
    """Deliveries, bounces, complaints, unsubscribes, and clicks by variant, link, item and
    section, with the keys of `newsletter report N --json`."""
    _gone_out(caller, number)
    with caller.context.engine.connect() as connection:
        found = issue_report(connection, caller.context.config, number)
    return Json(found.as_json())
