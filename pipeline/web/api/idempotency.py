"""`Idempotency-Key` on POST: the same key and body get the first answer again.

The first successful answer is kept 24 hours per token and key, with a hash of the
method, path and body (JSON compared by value, so key order and spaces do not matter).
The same key with another request is a 422. Two requests with one key at the same
moment may both run; the operations behind the API's POSTs (a sign-up, a submission)
are themselves safe to repeat, so that costs no second subscriber or item.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import Header, Request
from starlette.responses import Response

from pipeline.db import api_idempotency, dialect_insert
from pipeline.web.api.auth import Caller
from pipeline.web.api.problems import ApiProblem, FieldProblem

KEPT = timedelta(hours=24)
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass
class Once:
    key: str | None
    request_hash: str

    def answer(self, caller: Caller, make: Callable[[], Response]) -> Response:
        """The answer kept for this key, or `make`'s, kept when it succeeds."""
        replay = self._replay(caller)
        if replay is not None:
            return replay
        response = make()
        self._keep(caller, response)
        return response

    def _replay(self, caller: Caller) -> Response | None:
        """The answer kept for this key, or None; a 422 when the key came with another request."""
        if self.key is None:
            return None
        table = api_idempotency
        with caller.context.engine.connect() as connection:
            kept = connection.execute(
                sa.select(table).where(
                    table.c.token_id == caller.token.id,
                    table.c.key == self.key,
                    table.c.created_at > caller.context.clock() - KEPT,
                )
            ).first()
        if kept is None:
            return None
        if kept.request_hash != self.request_hash:
            raise ApiProblem(
                422,
                "This Idempotency-Key was used with another request.",
                [FieldProblem(field="idempotency-key", location="header", message="used before")],
            )
        headers = {"Idempotent-Replayed": "true"}
        if kept.location:
            headers["Location"] = kept.location
        return Response(kept.body, kept.status, headers=headers, media_type="application/json")

    def _keep(self, caller: Caller, response: Response) -> None:
        if self.key is None or not 200 <= response.status_code < 300:
            return
        at = caller.context.clock()
        table = api_idempotency
        with caller.context.engine.begin() as connection:
            # Expired answers go first (an index on created_at), this key's among them.
            connection.execute(sa.delete(table).where(table.c.created_at <= at - KEPT))
            connection.execute(
                dialect_insert(connection)(table)
                .values(
                    token_id=caller.token.id,
                    key=self.key,
                    request_hash=self.request_hash,
                    status=response.status_code,
                    body=bytes(response.body),
                    location=response.headers.get("location"),
                    created_at=at,
                )
                .on_conflict_do_nothing()
            )


def _request_hash(request: Request, body: bytes) -> str:
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    digest = hashlib.sha256(f"{request.method} {request.url.path}\0".encode())
    digest.update(canonical)
    return digest.hexdigest()


async def once_per_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            pattern=KEY.pattern,
            max_length=255,
            description="Any string of 1 to 255 visible ASCII characters, new for each "
            "operation: a retry with the same key and body gets the first answer (24 h).",
        ),
    ] = None,
) -> Once:
    return Once(idempotency_key, _request_hash(request, await request.body()))
