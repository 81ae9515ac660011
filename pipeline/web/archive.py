"""`/archive`, `/archive/{number}` and `/archive/feed.xml`: the issues already sent.

The index and the feed list finished issues; an issue's web view opens once its first
mail went out (its "View in browser" link), never before: a built issue is queue content.

The web view is the issue's stored variant with the per-reader parts filled in for
nobody in particular: a neutral greeting, and the sign-up page where a reader's own
links would be. Its links go straight to their destinations: the web view counts nothing.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.db import MAX_ROW_ID, issue_items, issue_links, issue_variants, issues, items
from pipeline.render.i18n import translations
from pipeline.render.personalize import Personalizable, html_values
from pipeline.render.tracking import untracked
from pipeline.web.context import WebContext, context_of
from pipeline.web.pages import (
    ISSUE_HTML_POLICY,
    LOCALES,
    SECURITY_HEADERS,
    message_page,
    page_locale,
    render_page,
)
from pipeline.web.published import issue_has_gone_out

ATOM = "http://www.w3.org/2005/Atom"
# The index names this many of an issue's headlines, and how many more it has.
HEADLINES_SHOWN = 5


def _sent_issues(context: WebContext) -> list[Any]:
    with context.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(issues.c.id, issues.c.number, issues.c.subject, issues.c.finished_at)
                .where(issues.c.state == "sent")
                .order_by(issues.c.number.desc())
            ).all()
        )


def _headlines(context: WebContext, issue_ids: list[int]) -> dict[int, list[str]]:
    """Each issue's item titles in the order the issue shows them."""
    found: dict[int, list[str]] = {issue_id: [] for issue_id in issue_ids}
    if not issue_ids:
        return found
    with context.engine.connect() as connection:
        rows = connection.execute(
            sa.select(issue_items.c.issue_id, items.c.title)
            .join(items, items.c.id == issue_items.c.item_id)
            .where(issue_items.c.issue_id.in_(issue_ids))
            .order_by(issue_items.c.issue_id, issue_items.c.position)
        ).all()
    for row in rows:
        found[row.issue_id].append(row.title)
    return found


def _index_entries(context: WebContext) -> list[dict[str, object]]:
    rows = _sent_issues(context)
    headlines = _headlines(context, [row.id for row in rows])
    timezone = ZoneInfo(context.config.site.timezone)
    return [
        {
            "number": row.number,
            "subject": row.subject,
            "finished_at": row.finished_at,
            "local_date": row.finished_at.astimezone(timezone).date().isoformat(),
            "headlines": headlines[row.id][:HEADLINES_SHOWN],
            "more": max(0, len(headlines[row.id]) - HEADLINES_SHOWN),
        }
        for row in rows
    ]


async def archive_index(request: Request) -> Response:
    entries = await run_in_threadpool(_index_entries, context_of(request))
    return render_page(request, "archive.html.j2", page_locale(request), {"issues": entries})


async def home(request: Request) -> Response:
    """`/` is the archive, with the sign-up at its top."""
    lang = request.query_params.get("lang")
    query = f"?{urlencode({'lang': lang})}" if lang in LOCALES else ""
    return RedirectResponse(f"/archive{query}", status_code=302)


def _web_view(context: WebContext, number: int, locale: str) -> str | None:
    with context.engine.connect() as connection:
        rows = connection.execute(
            sa.select(issue_variants.c.issue_id, issue_variants.c.variant, issue_variants.c.html)
            .join(issues, issues.c.id == issue_variants.c.issue_id)
            .where(issues.c.number == number, issue_has_gone_out())
        ).all()
        variants = {row.variant: row for row in rows}
        row = variants.get(locale) or variants.get(context.config.site.locale)
        if row is None and variants:
            row = next(iter(variants.values()))
        if row is None:
            return None
        destinations = dict(
            connection.execute(
                sa.select(issue_links.c.position, issue_links.c.url).where(
                    issue_links.c.issue_id == row.issue_id, issue_links.c.variant == row.variant
                )
            ).all()
        )
    html = untracked(row.html, context.config.site.url, destinations)
    sign_up = f"{context.config.site.url}/subscribe"
    values = {
        "greeting": translations(locale).gettext("Hello,"),
        "unsubscribe_url": sign_up,
        "preferences_url": sign_up,
    }
    filled = Personalizable.parse(html).fill(html_values(values))
    return as_page(without_links_to(filled, f"{context.config.site.url}/archive/{number}"))


def as_page(html: str) -> str:
    """The mail's body as the page's main landmark: a screen reader's "skip to main"
    lands on the issue, as on every other page of the site."""
    html = re.sub(r"(<body\b[^>]*>)", r"\1<main>", html, count=1)
    return html.replace("</body>", "</main></body>", 1)


def without_links_to(html: str, url: str) -> str:
    """The web view is the browser: its "View in browser" links (the one above the header
    and the footer's, with the separator before it) would only open the page itself."""
    link = rf'(?: · )?<a href="{re.escape(escape(url, quote=True))}"[^>]*>[^<]*</a>'
    return re.sub(link, "", html)


async def archive_issue(request: Request) -> Response:
    context = context_of(request)
    locale = page_locale(request)
    number = request.path_params["number"]
    too_large = number > MAX_ROW_ID  # names no issue; the database would refuse the number
    html = None if too_large else await run_in_threadpool(_web_view, context, number, locale)
    if html is None:
        gettext = translations(locale).gettext
        return message_page(
            request,
            locale,
            gettext("Issue not found"),
            gettext("There is no sent issue with this number."),
            status_code=404,
        )
    # The issue's HTML is mail HTML: it carries its own inline styles and no scripts.
    headers = SECURITY_HEADERS | {
        "Content-Security-Policy": f"{ISSUE_HTML_POLICY}; frame-ancestors 'none'"
    }
    return HTMLResponse(html, headers=headers)


async def archive_feed(request: Request) -> Response:
    context = context_of(request)
    rows = await run_in_threadpool(_sent_issues, context)
    site = context.config.site
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{site.url}/archive"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = site.name
    updated = rows[0].finished_at.isoformat() if rows else "1970-01-01T00:00:00+00:00"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(feed, f"{{{ATOM}}}link", href=f"{site.url}/archive/feed.xml", rel="self")
    ET.SubElement(feed, f"{{{ATOM}}}link", href=f"{site.url}/archive", rel="alternate")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = site.sender.name
    for row in rows:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        url = f"{site.url}/archive/{row.number}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}title").text = row.subject
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = row.finished_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}link", href=url, rel="alternate")
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/atom+xml")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/archive", archive_index, methods=["GET"]),
    Route("/archive/feed.xml", archive_feed, methods=["GET"]),
    Route("/archive/{number:int}", archive_issue, methods=["GET"]),
]
