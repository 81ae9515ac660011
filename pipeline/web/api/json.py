"""The API's JSON: orjson, dates as RFC 3339, for bodies and the idempotency store alike."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


class Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
