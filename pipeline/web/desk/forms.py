"""The item form: its fields, front matter made from them, and errors by field.

Validation is the content folder's own (the pydantic FrontMatter model); its errors are
put next to the field they concern, in the editor's language.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from pipeline.collect.every_problem import validate_front_matter
from pipeline.config import MEDIA_DIR

KINDS = ("intro", "report", "partner", "event", "news")
TEXT_FIELDS = ("title", "summary", "kind", "date", "link", "image", "image_alt", "body")
EVENT_FIELDS = ("event_start", "event_end", "event_location", "event_online_url")
# Fields an edit may change: everything the add form sets but the draft box (a draft
# leaves that state by the queue's actions). Others stay as they are in the file.
EDITABLE = (*TEXT_FIELDS, "topics", *EVENT_FIELDS)


def form_values(form: FormData) -> dict[str, Any]:
    """The form as posted, trimmed, to show again next to its errors."""
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in TEXT_FIELDS}
    values |= {name: str(form.get(name, "")).strip() for name in EVENT_FIELDS}
    # Browsers send a textarea's lines ending in CRLF; the files are written with LF.
    values["body"] = values["body"].replace("\r\n", "\n")
    values["topics"] = [t for t in form.getlist("topics") if isinstance(t, str) and t]
    values["draft"] = form.get("draft") == "yes"
    return values


def values_of_item(
    item: Mapping[str, Any], timezone: str, body: str = "", media_url: str = ""
) -> dict[str, Any]:
    """A stored item as form values (for the edit form), times in the site's zone; `body`
    is its file's Markdown. A picture of the content folder (served under `media_url`) is
    shown as its file names it, `media/name.jpg`."""
    image = item["image"] or ""
    if media_url and image.startswith(f"{media_url}/"):
        image = f"{MEDIA_DIR}/{image.removeprefix(f'{media_url}/')}"

    def local(moment: str | None) -> str:
        if not moment:
            return ""
        return (
            datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
        )

    return {
        "title": item["title"],
        "summary": item["summary"],
        "kind": item["kind"],
        "date": local(item["published_at"])[:10],
        "link": item["link"] or "",
        "image": image,
        "image_alt": item["image_alt"] or "",
        "body": body,
        "event_start": local(item["event_start"]),
        "event_end": local(item["event_end"]),
        "event_location": item["event_location"] or "",
        "event_online_url": item["event_online_url"] or "",
        "topics": item["topics"],
        "draft": item["state"] == "draft",
    }


def _moment(text: str) -> datetime | str:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text  # left for the model to refuse, next to its field


def _day(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def event_of(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `event:` mapping, or None when the item is no event and no event field is set."""
    filled = {
        "start": _moment(values["event_start"]) if values["event_start"] else None,
        "end": _moment(values["event_end"]) if values["event_end"] else None,
        "location": values["event_location"] or None,
        "online_url": values["event_online_url"] or None,
    }
    if values["kind"] != "event" and not any(filled.values()):
        return None
    return {key: value for key, value in filled.items() if value is not None}


def new_front_matter(values: Mapping[str, Any]) -> dict[str, Any]:
    """Front matter for a new item file (empty fields left out)."""
    return {
        "title": values["title"],
        "kind": values["kind"],
        "date": _day(values["date"]) if values["date"] else date.today(),
        "summary": values["summary"],
        "link": values["link"] or None,
        "image": values["image"] or None,
        "image_alt": values["image_alt"] or None,
        "topics": list(values["topics"]),
        "status": "draft" if values["draft"] else None,
        "event": event_of(values),
    }


def edited_front_matter(values: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """The keys the editor changed; None removes a key that was emptied.

    Unchanged keys are left out, so the file keeps them exactly as written.
    """
    changes: dict[str, Any] = {
        name: values[name] or None
        for name in ("title", "summary", "kind", "link", "image", "image_alt")
        if values[name] != before[name]
    }
    if values["date"] != before["date"]:
        changes["date"] = _day(values["date"]) if values["date"] else None
    if list(values["topics"]) != list(before["topics"]):
        changes["topics"] = list(values["topics"]) or None
    if values["kind"] != before["kind"] or any(
        values[name] != before[name] for name in EVENT_FIELDS
    ):
        changes["event"] = event_of(values)
    return changes


def form_errors(values: Mapping[str, Any], translation: gettext.NullTranslations) -> dict[str, str]:
    """What the form's own inputs refuse before the model sees them: the item's day is a
    date input, so a time in it (`2026-12-03T00:00:00`) is no day."""
    if values["date"] and not isinstance(_day(values["date"]), date):
        return {"date": translation.gettext("Please enter a date.")}
    return {}


def check(front_matter: dict[str, Any]) -> None:
    """Raise ValidationError as the content folder would (empty values left out), with
    every problem at once."""
    validate_front_matter({k: v for k, v in front_matter.items() if v not in (None, [])})


def _field(location: list[str], message: str) -> str:
    """The form field a model error concerns. Model-level rules name it as `name: reason`."""
    name, _, _rest = message.partition(": ")
    if name in ("image_alt", "event") and not location:
        location = [name]
    elif location == ["event"] and name in ("start", "end", "location", "online_url"):
        location = ["event", name]
    if location[:1] == ["event"]:
        return "event_" + (location[1] if len(location) > 1 else "start")
    return location[0] if location else "form"


def field_errors(exc: ValidationError, translation: gettext.NullTranslations) -> dict[str, str]:
    """One message per form field, the first the model found for it."""
    _ = translation.gettext
    by_type = {
        "missing": _("Please fill in this field."),
        "string_too_short": _("Please fill in this field."),
        "string_too_long": _("This text is too long."),
        "url_parsing": _("Please enter a full web address starting with https://"),
        "url_scheme": _("Please enter a full web address starting with https://"),
        "picture": _(
            "Please enter a web address starting with https://, or a picture of the "
            "content folder as media/name.jpg."
        ),
        "literal_error": _("Please choose one of the options."),
        "date_from_datetime_parsing": _("Please enter a date."),
        "datetime_from_date_parsing": _("Please enter a date and time."),
        "datetime_parsing": _("Please enter a date and time."),
        "date_parsing": _("Please enter a date."),
    }
    by_rule = {
        "image_alt": _("An image needs a text alternative for readers who cannot see it."),
        "event": _("An event needs a start time."),
        "location": _("An event needs a location or an online link."),
        "end": _("The event ends before it starts."),
        "must be a single line": _("Please keep the title on one line."),
    }
    found: dict[str, str] = {}
    for error in exc.errors():
        location = [str(part) for part in error["loc"] if not isinstance(part, int)]
        text = error["msg"].removeprefix("Value error, ")
        name = _field(location, text)
        rule = text.partition(": ")[0]
        shown = by_rule.get(rule) or by_rule.get(text) or by_type.get(error["type"], text)
        found.setdefault(name, shown)
    return found
