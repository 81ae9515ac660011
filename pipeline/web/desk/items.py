"""Adding and editing items from the desk.

A new item is written as a file into the content folder (like `queue add`) and collected
at once. An edit of a folder item is written back to its file and collected again, so the
store matches the file; a feed item is edited at its source, so only its state changes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.collect import collect_folder
from pipeline.collect.edit_item import read_body, update_item_file
from pipeline.collect.new_item import write_item_file
from pipeline.config import Config
from pipeline.db import now
from pipeline.errors import ContentError
from pipeline.issue.build import next_issue_number
from pipeline.queue.actions import find_item_id
from pipeline.render.i18n import translations
from pipeline.web.context import context_of
from pipeline.web.desk.forms import (
    EDITABLE,
    KINDS,
    check,
    edited_front_matter,
    field_errors,
    form_errors,
    form_values,
    new_front_matter,
    values_of_item,
)
from pipeline.web.desk.item_preview import preview_html
from pipeline.web.desk.notices import notice_query
from pipeline.web.desk.pages import DESK, action, back_to, page, render
from pipeline.web.desk.queue import actions_for, item_of, restorable
from pipeline.web.pages import page_locale

NEW = f"{DESK}/items/new"


def _blank(kind: str) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(
        ("title", "summary", "date", "link", "image", "image_alt", "body"), ""
    )
    values |= dict.fromkeys(("event_start", "event_end", "event_location", "event_online_url"), "")
    return values | {"kind": kind if kind in KINDS else "news", "topics": [], "draft": False}


def _form(
    request: Request,
    editor: str,
    values: dict[str, Any],
    *,
    item: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    preview: str = "",
) -> Response:
    config = context_of(request).config
    shown: dict[str, object] = {
        "values": values,
        "errors": errors or {},
        "item": item,
        "kinds": KINDS,
        "topics": config.topics,
        "actions": actions_for(item["state"], restorable(item)) if item else [],
        "preview_html": preview,
    }
    return render(
        request, "item_form.html.j2", shown, editor=editor, status_code=400 if errors else 200
    )


@page
async def new_item_form(request: Request, editor: str) -> Response:
    return _form(request, editor, _blank(request.query_params.get("kind", "news")))


def _write_new(config: Config, engine: sa.Engine, front_matter: dict[str, Any], body: str) -> int:
    """Write and collect the new item; returns its number in the queue."""
    path = write_item_file(
        config.sources.content_dir,
        front_matter,
        body,
        timezone=config.site.timezone,
        topic_keys={topic.key for topic in config.topics},
    )
    collect_folder(config, engine)
    key = "folder:" + path.relative_to(config.sources.content_dir).as_posix()
    with engine.connect() as connection:
        return find_item_id(connection, key)


@action
async def add_item(request: Request, editor: str, form: FormData) -> Response:
    context = context_of(request)
    translation = translations(page_locale(request))
    values = form_values(form)
    refused = form_errors(values, translation)
    front_matter = new_front_matter(values)
    if "date" in refused:
        front_matter["date"] = None  # refused already; the other fields are still checked
    try:
        check(front_matter)
    except ValidationError as exc:
        refused = field_errors(exc, translation) | refused
    if refused:
        return _form(request, editor, values, errors=refused)
    if form.get("preview") == "yes":
        shown = await _preview(request, front_matter, values["body"], 0)
        return _form(request, editor, values, preview=shown)
    try:
        added = await run_in_threadpool(
            _write_new, context.config, context.engine, front_matter, values["body"]
        )
    except ContentError as exc:
        return _form(request, editor, values, errors=_content_errors(exc, "title"))
    return back_to(request, DESK, notice_query("added", added))


def _content_errors(exc: ContentError, otherwise: str) -> dict[str, str]:
    """A file's error next to the field it names, else next to `otherwise`."""
    return {(exc.field or otherwise).replace(".", "_"): exc.reason}


def _not_found(request: Request, editor: str) -> Response:
    gettext = translations(page_locale(request)).gettext
    values: dict[str, object] = {"title": gettext("No such item"), "text": ""}
    return render(request, "message.html.j2", values, editor=editor, status_code=404)


async def _preview(request: Request, front_matter: dict[str, Any], body: str, item_id: int) -> str:
    """The item alone in the next issue's HTML; ValidationError as saving would raise."""
    context = context_of(request)

    def render() -> str:
        with context.engine.connect() as connection:
            number = next_issue_number(connection)
        return preview_html(
            context.config,
            front_matter,
            body,
            locale=page_locale(request),
            item_id=item_id,
            number=number,
            at=now(),
            keys=context.secret_key,
        )

    return await run_in_threadpool(render)


def _file_body(config: Config, item: dict[str, Any]) -> str:
    """The Markdown of a folder item's file ("" for a feed's item or a file gone)."""
    if not item["key"].startswith("folder:"):
        return ""
    path = config.sources.content_dir / item["key"].removeprefix("folder:")
    return read_body(path) if path.is_file() else ""


@page
async def edit_item_form(request: Request, editor: str) -> Response:
    item = await run_in_threadpool(item_of, request)
    if item is None:
        return _not_found(request, editor)
    config = context_of(request).config
    body = await run_in_threadpool(_file_body, config, item)
    values = values_of_item(item, config.site.timezone, body, config.site.media_url)
    return _form(request, editor, values, item=item)


def _write_back(
    config: Config, engine: sa.Engine, key: str, changes: dict[str, Any], body: str
) -> None:
    content_dir = config.sources.content_dir
    path = content_dir / key.removeprefix("folder:")
    if not path.is_file():
        raise ContentError(str(path), "the item's file is gone from the content folder")
    update_item_file(
        path,
        changes,
        content_dir=content_dir,
        timezone=config.site.timezone,
        topic_keys={topic.key for topic in config.topics},
        body=body,
    )
    collect_folder(config, engine)


@action
async def edit_item(request: Request, editor: str, form: FormData) -> Response:
    context = context_of(request)
    item = await run_in_threadpool(item_of, request)
    if item is None:
        return _not_found(request, editor)
    translation = translations(page_locale(request))
    body = await run_in_threadpool(_file_body, context.config, item)
    media_url = context.config.site.media_url
    before = values_of_item(item, context.config.site.timezone, body, media_url)
    if not item["key"].startswith("folder:"):
        message = translation.gettext("Items from feeds are edited at their source.")
        return _form(request, editor, before, item=item, errors={"form": message})
    # A field the form did not send stays as it is (the topics send an empty marker, so
    # that unticking every box is told apart from a form without them).
    posted = form_values(form)
    values = before | {name: posted[name] for name in EDITABLE if name in form}
    refused = form_errors(values, translation)
    if refused:
        return _form(request, editor, values, item=item, errors=refused)
    try:
        if form.get("preview") == "yes":
            front_matter = new_front_matter(values | {"draft": False})
            shown = await _preview(request, front_matter, values["body"], item["id"])
            return _form(request, editor, values, item=item, preview=shown)
        await run_in_threadpool(
            _write_back,
            context.config,
            context.engine,
            item["key"],
            edited_front_matter(values, before),
            values["body"],
        )
    except ValidationError as exc:
        errors = field_errors(exc, translation)
        return _form(request, editor, values, item=item, errors=errors)
    except ContentError as exc:
        return _form(request, editor, values, item=item, errors=_content_errors(exc, "form"))
    return back_to(request, DESK, notice_query("saved", item["id"]))


routes = [
    Route(NEW, new_item_form, methods=["GET"]),
    Route(NEW, add_item, methods=["POST"]),
    Route(f"{DESK}/items/{{item:int}}/edit", edit_item_form, methods=["GET"]),
    Route(f"{DESK}/items/{{item:int}}/edit", edit_item, methods=["POST"]),
]
