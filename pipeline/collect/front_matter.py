"""The schema of an item file's front matter, validated by pydantic."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from pipeline.config import ItemKind


def _plain_line(text: str) -> str:
    if "\n" in text.strip():
        raise ValueError("must be a single line")
    return text.strip()


PlainLine = Annotated[str, AfterValidator(_plain_line)]


class EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: dt.datetime
    end: dt.datetime | None = None
    location: str | None = None
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
    date: dt.date | dt.datetime
    summary: str = Field(min_length=1, max_length=1000)
    link: HttpUrl | None = None
    image: HttpUrl | None = None
    image_alt: str | None = None
    topics: list[str] = []
    status: Literal["draft", "ready"] = "ready"
    publish_after: dt.date | dt.datetime | None = None
    expires: dt.date | dt.datetime | None = None
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
