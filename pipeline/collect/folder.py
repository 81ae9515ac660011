"""The content folder: one Markdown file per item, front matter validated, body sanitised."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import frontmatter
import yaml
from markdown_it import MarkdownIt
from pydantic import ValidationError

from pipeline.collect.front_matter import FrontMatter
from pipeline.collect.item import CollectedItem, Event
from pipeline.collect.sanitize import sanitise_html
from pipeline.errors import ContentError

SOURCE_NAME = "content folder"
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False})


@dataclass
class FolderResult:
    items: list[CollectedItem] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    failed_keys: set[str] = field(default_factory=set)
    """Keys of files that exist but failed validation: their queued items are kept."""


def item_files(content_dir: Path) -> list[Path]:
    """Every item file; files and folders starting with `_` or `.` are not items."""
    return sorted(
        path
        for path in content_dir.rglob("*.md")
        if not any(part.startswith(("_", ".")) for part in path.relative_to(content_dir).parts)
    )


def read_folder(content_dir: Path, *, timezone: str, topic_keys: Iterable[str]) -> FolderResult:
    """Read every item file; a bad file is reported and the others are still read."""
    result = FolderResult()
    if not content_dir.is_dir():
        result.errors.append(ContentError(str(content_dir), "the content folder does not exist"))
        return result
    known_topics = set(topic_keys)
    for path in item_files(content_dir):
        try:
            result.items.append(read_item(path, content_dir, ZoneInfo(timezone), known_topics))
        except ContentError as error:
            result.errors.append(error)
            result.failed_keys.add(item_key(path.relative_to(content_dir)))
    return result


def item_key(relative: Path) -> str:
    return f"folder:{relative.as_posix()}"


def read_item(
    path: Path, content_dir: Path, zone: ZoneInfo, known_topics: set[str]
) -> CollectedItem:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(shown, f"not UTF-8 text ({exc.reason})") from exc
    if not text.lstrip().startswith("---"):
        raise ContentError(shown, "no front matter: the file must start with a `---` line", line=1)
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for `---`
        raise ContentError(shown, f"front matter is not valid YAML ({exc})", line=line) from exc
    try:
        fields = FrontMatter.model_validate(post.metadata)
    except ValidationError as exc:
        raise _describe(shown, text, exc) from exc
    unknown = [topic for topic in fields.topics if topic not in known_topics]
    if unknown:
        raise ContentError(
            shown,
            f"unknown topic(s) {', '.join(unknown)}; config.yaml's topics are "
            f"{', '.join(sorted(known_topics)) or '(none)'}",
            line=_line_of(text, "topics"),
            field="topics",
        )
    return _to_item(fields, post.content, path.relative_to(content_dir), zone)


def _describe(path: str, text: str, exc: ValidationError) -> ContentError:
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if not location and ": " in message:
        # A model-level rule names its field as `field: reason`.
        name, message = message.split(": ", 1)
        location = [name]
    field_name = ".".join(location) or None
    if error["type"] == "missing":
        message = "required but missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown field"
    line = _line_of(text, location[-1]) if location else None
    if line is None and location:
        line = _line_of(text, location[0])
    return ContentError(path, message, line=line, field=field_name)


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*:", text, flags=re.MULTILINE)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def _aware(moment: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _to_item(fields: FrontMatter, body: str, relative: Path, zone: ZoneInfo) -> CollectedItem:
    event = None
    if fields.event is not None:
        event = Event(
            start=_aware(fields.event.start, zone),
            end=None if fields.event.end is None else _aware(fields.event.end, zone),
            location=fields.event.location,
            online_url=None if fields.event.online_url is None else str(fields.event.online_url),
        )
    return CollectedItem(
        key=item_key(relative),
        source=SOURCE_NAME,
        kind=fields.kind,
        title=fields.title,
        summary=" ".join(fields.summary.split()),
        body_html=sanitise_html(_markdown.render(body)) if body.strip() else "",
        link=None if fields.link is None else str(fields.link),
        image=None if fields.image is None else str(fields.image),
        image_alt=fields.image_alt,
        topics=tuple(fields.topics),
        published_at=_aware(fields.date, zone),
        event=event,
        ready=fields.status == "ready",
        publish_after=None if fields.publish_after is None else _aware(fields.publish_after, zone),
        expires=None if fields.expires is None else _aware(fields.expires, zone),
    )
