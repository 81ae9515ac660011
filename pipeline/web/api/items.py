"""`/api/v1/items`: partners' systems send news in; editors' tools list and move the queue.

An item sent in is stored as a submission from the form is (`pipeline.queue.submissions`):
in the database, never in the content folder, state `submitted`, waiting for an editor,
whose approval alone moves it on; the editors are mailed that it waits, as for a
partner's link. The same content sent twice is one item (its key is its content's
fingerprint): the second answer is a 200 with the first one's item.
Approve, hold and drop are the desk's actions (`pipeline.queue.actions`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Security
from pydantic import BaseModel, Field
from starlette.responses import Response

from pipeline.collect.every_problem import validate_front_matter
from pipeline.collect.submission import submission_item
from pipeline.config import Config, ItemKind
from pipeline.db import MAX_ROW_ID, issues, items
from pipeline.partner_mail import editors_notice, send_mails
from pipeline.queue.actions import QueueActionRefused, StateAction, apply_action
from pipeline.queue.listing import STATE_ORDER
from pipeline.queue.rules import OPEN_STATES
from pipeline.queue.submissions import store_submission
from pipeline.send.message import OutgoingMessage
from pipeline.web.api.auth import Caller, required
from pipeline.web.api.cursor import CursorParameter, Limit, Page, after_id, next_cursor
from pipeline.web.api.idempotency import Once, once_per_key
from pipeline.web.api.item_input import ItemIn
from pipeline.web.api.json import Json
from pipeline.web.api.problems import ApiProblem, Problem
from pipeline.web.api.topics import TopicFilter, known_topics

log = logging.getLogger(__name__)
router = APIRouter(tags=["items"])
READ = ["items:read", "items:write"]
WRITE = ["items:write"]
ItemState = Literal[
    "submitted", "approved", "queued", "held", "draft", "sent", "dropped", "expired"
]
assert set(get_args(ItemState)) == set(STATE_ORDER)
ItemId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
GET_ITEM = {"GetItem": {"operationId": "get_item", "parameters": {"item_id": "$response.body#/id"}}}


class EventOut(BaseModel):
    start: datetime
    end: datetime | None
    all_day: bool = Field(description="A day's event: `start` and `end` name days.")
    location: str | None
    online_url: str | None


class ItemOut(BaseModel):
    id: int
    state: ItemState
    kind: str
    title: str
    summary: str
    body_html: str = Field(description="The body as the issue shows it, sanitised.")
    link: str | None
    image: str | None
    image_alt: str | None
    topics: list[str] = Field(description="Empty: for every reader.")
    source: str = Field(description="The feed, calendar, page or sender it came from.")
    published_at: datetime
    event: EventOut | None
    duplicate_of: int | None = Field(description="The item kept instead of this repeat.")
    issue: int | None = Field(description="The number of the issue that carried it.")
    created_at: datetime
    updated_at: datetime


def _select() -> sa.Select[tuple[object, ...]]:
    return sa.select(items, issues.c.number.label("issue_number")).outerjoin(
        issues, issues.c.id == items.c.issue_id
    )


def _out(row: sa.Row[tuple[object, ...]]) -> ItemOut:
    m = row._mapping
    event = None
    if m["event_start"] is not None:
        event = EventOut(
            start=m["event_start"],
            end=m["event_end"],
            all_day=m["event_all_day"],
            location=m["event_location"],
            online_url=m["event_online_url"],
        )
    # The row's columns by name; the rest of the row (key, hashes, ...) is not shown.
    return ItemOut.model_validate(
        dict(m) | {"topics": list(m["topics"] or ()), "event": event, "issue": m["issue_number"]}
    )


def _read(connection: sa.Connection, item_id: int) -> ItemOut:
    row = connection.execute(_select().where(items.c.id == item_id)).first()
    if row is None:
        raise ApiProblem(404, "No item has that id.")
    return _out(row)


@router.post(
    "/items",
    operation_id="create_item",
    summary="Send an item in (it waits for an editor's approval)",
    status_code=201,
    response_model=ItemOut,
    responses={
        201: {"description": "Stored, state `submitted`.", "links": GET_ITEM},
        200: {
            "model": ItemOut,
            "description": "The same content was sent before: that item, as it is now.",
            "links": GET_ITEM,
        },
    },
)
def create_item(
    request: Request,
    body: ItemIn,
    caller: Annotated[Caller, Security(required, scopes=WRITE)],
    once: Annotated[Once, Depends(once_per_key)],
) -> Response:
    """Validated as a content file's front matter is; every problem is named at once."""
    return once.answer(caller, partial(_create_item, request, body, caller))


def _create_item(request: Request, body: ItemIn, caller: Caller) -> Response:
    context = caller.context
    config = context.config
    known_topics(config, body.topics)
    zone = ZoneInfo(config.site.timezone)
    at = context.clock()
    front = body.front_matter(at.astimezone(zone).date())
    item = submission_item(
        validate_front_matter(front),
        front,
        body.body,
        partner_id=None,
        source=f"API: {caller.token.name}",
        zone=zone,
        at=at,
        dated=body.date is not None,
    )
    stored = store_submission(context.engine, item, None, at)
    log.info("the API token %s sent in item %d", caller.token.name, stored.item_id)
    if stored.new:
        notice = editors_notice(config, stored.item_id, item.title, item.source)
        context.mails.submit(partial(_mail_editors, config, notice))
    with context.engine.connect() as connection:
        answer = _read(connection, stored.item_id)
    return Json(
        answer.model_dump(mode="json"),
        status_code=201 if stored.new else 200,
        headers={"Location": f"{request.url.path}/{stored.item_id}"},
    )


async def _mail_editors(config: Config, notice: list[OutgoingMessage]) -> None:
    await send_mails(config, notice)


@router.get("/items/{item_id}", operation_id="get_item", summary="One item", response_model=ItemOut)
def get_item(
    item_id: ItemId, caller: Annotated[Caller, Security(required, scopes=READ)]
) -> ItemOut:
    with caller.context.engine.connect() as connection:
        return _read(connection, item_id)


@router.get(
    "/items",
    operation_id="list_items",
    summary="The queue, filtered, a page at a time (oldest first)",
    response_model=Page[ItemOut],
)
def list_items(
    caller: Annotated[Caller, Security(required, scopes=READ)],
    state: Annotated[
        list[ItemState] | None,
        Query(
            max_length=len(STATE_ORDER),
            description="Only items in these states (repeat it for several); none: the open "
            f"ones ({', '.join(OPEN_STATES)}).",
        ),
    ] = None,
    kind: Annotated[ItemKind | None, Query(description="Only this section.")] = None,
    topic: TopicFilter = None,
    limit: Limit = 50,
    cursor: CursorParameter = None,
) -> Page[ItemOut]:
    query = _select().where(items.c.id > after_id(cursor), items.c.state.in_(state or OPEN_STATES))
    if kind is not None:
        query = query.where(items.c.kind == kind)
    if topic is not None:
        # Topics are stored as a JSON list: its text names each key in quotes.
        text = sa.cast(items.c.topics, sa.Text)
        query = query.where(text.contains(f'"{topic}"', autoescape=True))
    with caller.context.engine.connect() as connection:
        rows = connection.execute(query.order_by(items.c.id).limit(limit + 1)).all()
    found = [_out(row) for row in rows[:limit]]
    return Page(data=found, next_cursor=next_cursor([row._mapping["id"] for row in rows], limit))


def _act(caller: Caller, item_id: int, action: StateAction) -> Response:
    context = caller.context
    with context.engine.connect() as connection:
        _read(connection, item_id)
    try:
        [moved] = apply_action(context.engine, [str(item_id)], action, context.clock())
    except QueueActionRefused as exc:
        raise ApiProblem(409, str(exc)) from None
    log.info("the API token %s: %s", caller.token.name, moved)
    with context.engine.connect() as connection:
        answer = _read(connection, item_id)
    return Json(answer.model_dump(mode="json"))


def _action_route(action: StateAction, summary: str) -> None:
    def act(
        item_id: ItemId,
        caller: Annotated[Caller, Security(required, scopes=WRITE)],
        once: Annotated[Once, Depends(once_per_key)],
    ) -> Response:
        return once.answer(caller, partial(_act, caller, item_id, action))

    router.post(
        f"/items/{{item_id}}/{action}",
        operation_id=f"{action}_item",
        summary=summary,
        response_model=ItemOut,
        responses={409: {"model": Problem, "description": "The item's state does not allow it."}},
    )(act)


_action_route("approve", "Approve an item for the next issue")
_action_route("hold", "Hold an item back from the issues until it is released")
_action_route("drop", "Drop an item (the desk can restore it)")
