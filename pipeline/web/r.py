"""`GET`/`HEAD /r/<token>.<position>`: a tracked link of a mail; `GET /o/<token>.gif`: an open.

The destination comes from the issue's own links, found by the issue and variant that the
token's signed part names and the link's position in that variant: never from the
request, so the redirect can lead nowhere else. A forged or malformed token, a position
its variant does not have (a number out of range, another issue's link) all get the same
404 page, and nothing is counted. What is counted goes to the recorder's queue, not to the
database: the answer never waits for a write.
"""

from __future__ import annotations

import base64
import time

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.report.machine import MAX_USER_AGENT, Hit
from pipeline.tokens import ClickToken, InvalidToken, SecretKeys, read_click_token
from pipeline.web.click_recorder import Counted
from pipeline.web.context import client_address, context_of

# Each click is its own: no cache may answer for the server, nor the destination learn
# the page the mail was read on.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
"""A transparent 1x1 GIF."""
MAX_POSITION_DIGITS = 5


def _click_token(keys: SecretKeys, token: str) -> ClickToken:
    try:
        return read_click_token(keys, token)
    except InvalidToken:
        raise HTTPException(404) from None


def _position(text: str) -> int:
    """A link's position as links carry it: ASCII digits, no sign, no leading zero."""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_POSITION_DIGITS:
        raise HTTPException(404)
    if text[0] == "0":
        raise HTTPException(404)
    return int(text)


def _hit(request: Request, token: ClickToken, at: float, link: int | None, links: int) -> Hit:
    return Hit(
        at=at,
        head=request.method == "HEAD",
        minute=token.minute,
        nonce=token.nonce,
        link=link,
        links_in_mail=links,
        ip=client_address(request),
        # Cut as the crowd rule keeps it: the rules' cache holds no longer strings.
        user_agent=request.headers.get("user-agent", "")[:MAX_USER_AGENT],
    )


async def tracked_link(request: Request) -> Response:
    context = context_of(request)
    signed, _, position_text = request.path_params["token"].rpartition(".")
    position = _position(position_text)
    token = _click_token(context.secret_key, signed)
    links = context.links.cached(token.issue_id, token.variant_no)
    if links is None:
        links = await run_in_threadpool(context.links.load, token.issue_id, token.variant_no)
    link = links.get(position)
    if link is None:
        raise HTTPException(404)
    if context.config.analytics.clicks:
        at = time.time()
        counted = Counted(token.issue_id, token.variant_no, link.link_id, at, token.subscriber_id)
        await context.clicks.record(_hit(request, token, at, position, len(links)), counted)
    return Response(status_code=302, headers={"Location": link.location, **HEADERS})


async def open_image(request: Request) -> Response:
    context = context_of(request)
    if not context.config.analytics.opens:
        raise HTTPException(404)
    token = _click_token(context.secret_key, request.path_params["token"])
    variants = context.links.variants(token.issue_id)
    if variants is None:
        variants = await run_in_threadpool(context.links.load_variants, token.issue_id)
    if not 1 <= token.variant_no <= variants:
        raise HTTPException(404)
    at = time.time()
    counted = Counted(token.issue_id, token.variant_no, None, at, token.subscriber_id)
    await context.clicks.record(_hit(request, token, at, None, 0), counted)
    return Response(PIXEL, media_type="image/gif", headers=HEADERS)


routes = [
    Route("/r/{token}", tracked_link, methods=["GET", "HEAD"]),
    Route("/o/{token}.gif", open_image, methods=["GET"]),
]
