"""The schema of an item file's front matter, validated by pydantic."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipeline.config import MEDIA_DIR, ItemKind

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_control(text: str) -> str:
    """Text sent in may hold no control characters (NUL: no database stores it)."""
    if _CONTROL.search(text):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return text


PlainText = Annotated[str, AfterValidator(_no_control)]


def _plain_line(text: str) -> str:
    # Every line break Python knows (\r, \x0b, \x1c, U+2028 ...), not only \n: a title
    # becomes a mail's Subject, and a header must not be split.
    if len(text.strip().splitlines()) > 1:
        raise ValueError("must be a single line")
    return _no_control(text.strip())


PlainLine = Annotated[str, AfterValidator(_plain_line)]

FIRST_YEAR, LAST_YEAR = 1900, 2999


def _plausible(moment: dt.date) -> dt.date:
    """A date every clock can hold: year 1 or 9999 moved to UTC overflows."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise PydanticCustomError(
            "year",
            "the year must lie between {first} and {last}",
            {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return moment


Day = Annotated[dt.date, AfterValidator(_plausible)]
Moment = Annotated[dt.datetime, AfterValidator(_plausible)]
# Checked after the union, so its members keep their plain names in errors ("date.date").
DayOrMoment = Annotated[dt.date | dt.datetime, AfterValidator(_plausible)]

_MEDIA_FILE = re.compile(rf"^{MEDIA_DIR}/[A-Za-z0-9][A-Za-z0-9._-]*\.(jpe?g|png|gif|webp)$")
_URL = TypeAdapter(HttpUrl)


def _picture(value: str) -> str:
    """A web address, or a picture of the content folder (`media/name.jpg`)."""
    if value.startswith(f"{MEDIA_DIR}/"):
        if not _MEDIA_FILE.match(value):
            raise PydanticCustomError(
                "picture", "a picture in media/ is named like media/name.jpg (jpg, png, gif, webp)"
            )
        return value
    try:
        return str(_URL.validate_python(value))
    except ValidationError as exc:
        raise PydanticCustomError(
            "picture", "must be a web address (https://...) or a picture in media/ (media/name.jpg)"
        ) from exc


Picture = Annotated[str, AfterValidator(_picture)]


class EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Moment
    end: Moment | None = None
    location: PlainText | None = None
    online_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventFields:
        if self.end is not None and _naive(self.end) < _naive(self.start):
            raise ValueError("end: the event ends before it starts")
        if not self.location and self.online_url is None:
            raise ValueError("location: an event needs a location or an online_url")
        return self


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=None)


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: PlainLine = Field(min_length=1, max_length=300)
    kind: ItemKind
    date: DayOrMoment
    summary: PlainText = Field(min_length=1, max_length=1000)
    link: HttpUrl | None = None
    image: Picture | None = None
    image_alt: PlainText | None = None
    topics: list[str] = []
    status: Literal["draft", "ready"] = "ready"
    publish_after: DayOrMoment | None = None
    expires: DayOrMoment | None = None
    event: EventFields | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FrontMatter:
        if self.image is not None and not (self.image_alt or "").strip():
            raise ValueError("image_alt: an image needs a text alternative (image_alt)")
        if self.kind == "event" and self.event is None:
            raise ValueError("event: an item of kind event needs event.start and a location")
        if self.kind != "event" and self.event is not None:
            raise ValueError("event: only items of kind event carry event details")
        return self
