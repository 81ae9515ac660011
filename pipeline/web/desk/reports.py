"""Past issues on the desk: `/desk/issues` lists them with their headline figures,
`/desk/issues/N` shows one issue's report, with a bar chart per item drawn as SVG.

The figures are `newsletter report`'s (pipeline/report): one query path for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.config import Config
from pipeline.db import MAX_ROW_ID
from pipeline.errors import NoSuchIssue
from pipeline.render.i18n import translations
from pipeline.report.figures import Clicks, IssueReport
from pipeline.report.issue_report import Headline, headlines, issue_count, issue_report
from pipeline.report.words import number, percent, report_words, variant_name
from pipeline.web.context import context_of
from pipeline.web.desk.charts import Chart, bar_chart
from pipeline.web.desk.pages import DESK, page, render
from pipeline.web.pages import page_locale

ISSUES = f"{DESK}/issues"
PER_PAGE = 25


@dataclass(frozen=True)
class IssueList:
    headlines: list[Headline]
    page: int
    pages: int


def _list(engine: sa.Engine, page_number: int) -> IssueList:
    with engine.connect() as connection:
        total = issue_count(connection)
        pages = max(1, -(-total // PER_PAGE))
        shown = min(page_number, pages)
        found = headlines(connection, PER_PAGE, (shown - 1) * PER_PAGE)
    return IssueList(found, shown, pages)


def _page_number(request: Request) -> int:
    """`?page=` as a page number; anything else (or nothing) is the first page."""
    asked = request.query_params.get("page", "1")
    return int(asked) if _plain_number(asked) and 0 < int(asked) <= MAX_ROW_ID else 1


def _plain_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` takes `²` and other digits `int` refuses."""
    return text.isascii() and text.isdigit()


def _formatters(locale: str) -> dict[str, object]:
    return {
        "num": lambda value: number(value, locale),
        "pct": lambda value: percent(value, locale),
        "words": report_words(locale),
        "variant_name": lambda key: variant_name(key, locale),
    }


@page
async def list_issues(request: Request, editor: str) -> Response:
    context = context_of(request)
    listed = await run_in_threadpool(_list, context.engine, _page_number(request))
    locale = page_locale(request)
    values: dict[str, object] = {"listed": listed, **_formatters(locale)}
    return render(request, "issues.html.j2", values, editor=editor)


def _report(engine: sa.Engine, config: Config, issue_number: int) -> IssueReport | None:
    with engine.connect() as connection:
        try:
            return issue_report(connection, config, issue_number)
        except NoSuchIssue:
            return None


@page
async def show_report(request: Request, editor: str) -> Response:
    context = context_of(request)
    locale = page_locale(request)
    asked = request.path_params["number"]
    found = None
    if _plain_number(asked) and int(asked) <= MAX_ROW_ID:
        found = await run_in_threadpool(_report, context.engine, context.config, int(asked))
    if found is None:
        gettext = translations(locale).gettext
        values: dict[str, object] = {
            "title": gettext("No such issue"),
            "text": gettext("There is no issue of that number."),
        }
        return render(request, "message.html.j2", values, editor=editor, status_code=404)
    charts = {item.item_id: item_chart(item.clicks, found, locale) for item in found.items}
    values = {"report": found, "charts": charts, **_formatters(locale)}
    return render(request, "issue_report.html.j2", values, editor=editor)


def item_chart(clicks: Clicks, report: IssueReport, locale: str) -> Chart:
    """An item's bars: readers' and machines' clicks on the scale of the issue's most
    clicked item (so items compare), and the share of agreeing readers who clicked."""
    _ = translations(locale).gettext
    figure = report_words(locale)["figure"]
    most = max((max(i.clicks.clicks, i.clicks.machine_clicks) for i in report.items), default=0)
    readers = _("%(readers)s of %(agreed)s who agreed (%(rate)s)") % {
        "readers": number(clicks.clicking_readers, locale),
        "agreed": number(clicks.agreed, locale),
        "rate": percent(clicks.click_through_rate, locale),
    }
    return bar_chart(
        [
            (figure["clicks"], share(clicks.clicks, most), number(clicks.clicks, locale), "reader"),
            (
                figure["machine_clicks"],
                share(clicks.machine_clicks, most),
                number(clicks.machine_clicks, locale),
                "machine",
            ),
            (figure["clicking_readers"], clicks.click_through_rate or 0.0, readers, "agreed"),
        ]
    )


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


routes = [
    Route(ISSUES, list_issues, methods=["GET"]),
    Route(f"{ISSUES}/{{number}}", show_report, methods=["GET"]),
]
