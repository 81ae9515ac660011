"""Cursor pagination shared by every list: `?limit=&cursor=` -> `{data, next_cursor}`.

A cursor is the last row's id, opaque to callers (base64url of `v1:<id>`): a list that
grows or shrinks between pages neither repeats nor skips a row, as an offset would.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from pipeline.web.api.problems import field_problem

T = TypeVar("T")
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows a page, at most 200.")]
CursorParameter = Annotated[
    str | None,
    Query(max_length=64, description="`next_cursor` of the page before; none for the first."),
]


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(
        description="Give it as `cursor` for the next page; null: none."
    )


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def after_id(cursor: str | None) -> int:
    """The id a page starts after (0 for the first); a cursor not made here is a 422."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    version, _, number = text.partition(":")
    if version != "v1" or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise field_problem("cursor", "not a cursor this API gave out", location="query")
    return int(number)


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page of `ids` (fetched with limit + 1 rows, the extra one cut)."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None
