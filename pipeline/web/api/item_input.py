"""The body of `POST /api/v1/items`: a content file's front matter as JSON, plus its body.

Validated as a content file is (`pipeline.collect.front_matter`), with every problem
named at once: pydantic checks the rules joining fields (an image needs `image_alt`, an
event a place or an online link) only once each field is valid, so the front matter's
own rounds run beside the field checks and their problems are joined, field by field.
Links must lead to the public web (`pipeline.net.public_links`); a picture is a web
address (the API has no content folder).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from pipeline.collect.every_problem import init_details, validate_front_matter
from pipeline.collect.front_matter import Day, Moment, PlainLine, PlainText
from pipeline.collect.submission import BODY_CHARS
from pipeline.net.public_links import link_refusal
from pipeline.web.api.topics import TopicKey

_URL = TypeAdapter(HttpUrl)
_FRONT_MATTER_RULES = ("image_alt", "event", "location", "end")
"""The front matter's rules that join fields, by the field their message names first."""


def _public(url: str) -> str:
    try:
        normal = str(_URL.validate_python(url))
    except ValidationError:
        raise PydanticCustomError("url", "must be a web address (https://...)") from None
    reason = link_refusal(normal)
    if reason is not None:
        raise PydanticCustomError(
            "public_url", "must lead to the public web: it {reason}", {"reason": reason}
        )
    return normal


def _https(url: str) -> str:
    if not url.startswith("https://"):
        raise PydanticCustomError("https_url", "must be an https:// address")
    return url


_URI = {"format": "uri"}
PublicUrl = Annotated[str, Field(max_length=2000, json_schema_extra=_URI), AfterValidator(_public)]
PublicPicture = Annotated[
    str, Field(max_length=2000, json_schema_extra=_URI), AfterValidator(_https),
    AfterValidator(_public),
]  # fmt: skip
SubmittedKind = Literal["report", "partner", "event"]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: Moment = Field(description="In `site.timezone` unless it names its offset.")
    end: Moment | None = None
    location: PlainText | None = Field(None, max_length=300)
    online_url: PublicUrl | None = Field(None, description="Where it takes place online.")


class ItemIn(BaseModel):
    """What a content file's front matter says, and its Markdown body."""

    model_config = ConfigDict(extra="forbid")  # `sumary` is named, not ignored
    title: PlainLine = Field(min_length=1, max_length=300, description="Plain text, one line.")
    kind: SubmittedKind = Field(description="The issue's section.")
    date: Day | None = Field(None, description="Its date; default: the day it arrives.")
    summary: PlainText = Field(min_length=1, max_length=1000, description="Plain text.")
    link: PublicUrl | None = Field(None, description="Where readers read on.")
    image: PublicPicture | None = None
    image_alt: PlainText | None = Field(None, max_length=500, description="Needed with an image.")
    topics: list[TopicKey] = Field([], max_length=50, description="Keys of `topics`.")
    event: EventIn | None = Field(None, description="Only and always for kind event.")
    body: str = Field("", max_length=BODY_CHARS, description="Markdown, sanitised.")

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ItemIn:
        problems: list[ErrorDetails] = []
        try:
            valid: ItemIn = handler(data)
        except ValidationError as exc:
            problems = list(exc.errors())
        if isinstance(data, dict):
            named = {tuple(problem["loc"]) for problem in problems}
            problems += [p for p in _front_matter_problems(data) if tuple(p["loc"]) not in named]
        if problems:
            raise ValidationError.from_exception_data(
                cls.__name__, [init_details(problem) for problem in problems]
            )
        return valid

    def front_matter(self, today: dt.date) -> dict[str, Any]:
        """As a content file's front matter would say it (`date` defaulting to `today`)."""
        front = self.model_dump(exclude={"body"}, exclude_none=True, exclude_defaults=True)
        front |= {"title": self.title, "kind": self.kind, "summary": self.summary}
        front["date"] = self.date or today
        return front


def _front_matter_problems(data: dict[str, Any]) -> list[ErrorDetails]:
    front = {name: value for name, value in data.items() if name != "body"}
    front.setdefault("date", dt.date(2000, 1, 1))  # the API's default stands in for none
    try:
        validate_front_matter(front)
    except ValidationError as exc:
        return [_located(error) for error in exc.errors()]
    return []


def _located(error: ErrorDetails) -> ErrorDetails:
    """A rule joining fields is reported at the model (`loc` empty, the field first in the
    message): name its field, as a caller reads it."""
    text = error["msg"].removeprefix("Value error, ")
    rule, _, message = text.partition(": ")
    if error["type"] != "value_error" or rule not in _FRONT_MATTER_RULES:
        return error
    location = tuple(error["loc"])
    if location[-1:] != (rule,):
        location = (*location, rule)
    return ErrorDetails(type="front_matter", loc=location, msg=message, input=error["input"])
