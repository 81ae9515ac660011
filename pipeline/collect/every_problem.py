"""Front matter validated with every problem reported at once.

pydantic checks the rules that join fields (an image needs `image_alt`, an event needs
`event:`) only once every field is valid, and stops at the first of them. So each round
stands a valid value in for what failed and validates again, until no new problem shows;
the problems of all rounds are raised together as one ValidationError.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from pipeline.collect.front_matter import FrontMatter

MAX_ROUNDS = 8
_PYDANTIC_ERRORS = frozenset(get_args(ErrorType))
_EVENT = {"start": dt.datetime(2000, 1, 1), "location": "x"}
# Valid stand-ins by field; None removes an optional key.
_STAND_INS: dict[str, object] = {
    "title": "x",
    "summary": "x",
    "date": dt.date(2000, 1, 1),
    "link": None,
    "image": "https://example.org/image.jpg",
    "image_alt": "x",
    "topics": [],
    "status": None,
    "publish_after": None,
    "expires": None,
}
_EVENT_STAND_INS: dict[str, object] = {
    "start": dt.datetime(2000, 1, 1),
    "end": None,
    "location": "x",
    "online_url": "https://example.org/",
}


def validate_front_matter(data: dict[str, Any]) -> FrontMatter:
    """The validated front matter, or ValidationError listing every problem."""
    try:
        return FrontMatter.model_validate(data)
    except ValidationError as exc:
        found = list(exc.errors())
    attempt = copy.deepcopy(data)
    seen = {_identity(error) for error in found}
    for _ in range(MAX_ROUNDS):
        if not all(_stand_in(attempt, error) for error in found):
            break
        try:
            FrontMatter.model_validate(attempt)
            break
        except ValidationError as exc:
            new = [error for error in exc.errors() if _identity(error) not in seen]
        if not new:
            break
        seen.update(_identity(error) for error in new)
        found.extend(new)
    raise ValidationError.from_exception_data(
        "FrontMatter", [init_details(error) for error in found]
    )


def _identity(error: ErrorDetails) -> tuple[tuple[int | str, ...], str]:
    return tuple(error["loc"]), error["msg"]


def init_details(error: ErrorDetails) -> InitErrorDetails:
    """`error` as pydantic takes it back, to raise a ValidationError with it again."""
    kind: str | PydanticCustomError = error["type"]
    if kind not in _PYDANTIC_ERRORS:  # our own (PydanticCustomError): rebuilt as one
        kind = PydanticCustomError(error["type"], error["msg"], error.get("ctx"))
    details: InitErrorDetails = {
        "type": kind,
        "loc": error["loc"],
        "input": error["input"],
    }
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


def _stand_in(attempt: dict[str, Any], error: ErrorDetails) -> bool:
    """Put a valid value where `error` was found; False when there is none to put."""
    location = [str(part) for part in error["loc"] if not isinstance(part, int)]
    rule = error["msg"].removeprefix("Value error, ").partition(": ")[0]
    if error["type"] == "extra_forbidden" and len(location) == 1:
        attempt.pop(location[0], None)
        return True
    if location == [] and rule == "event":  # kind and event disagree
        if attempt.get("kind") == "event":
            attempt["event"] = dict(_EVENT)
        else:
            attempt.pop("event", None)
        return True
    if location == [] and rule in _STAND_INS:
        return _put(attempt, rule, _STAND_INS[rule])
    if location[:1] == ["event"]:
        event = attempt.get("event")
        if not isinstance(event, dict) or (len(location) == 1 and rule not in _EVENT_STAND_INS):
            attempt["event"] = dict(_EVENT)
            return True
        name = location[1] if len(location) > 1 else rule
        if error["type"] == "extra_forbidden":
            event.pop(name, None)
            return True
        return name in _EVENT_STAND_INS and _put(event, name, _EVENT_STAND_INS[name])
    if location == ["kind"]:
        attempt["kind"] = "event" if "event" in attempt else "news"
        return True
    # A union's member may follow the name: ("date", "datetime").
    return (
        bool(location)
        and location[0] in _STAND_INS
        and _put(attempt, location[0], _STAND_INS[location[0]])
    )


def _put(target: dict[str, Any], name: str, value: object) -> bool:
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value
    return True
