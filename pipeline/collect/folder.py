"""The content folder: one Markdown file per item, front matter validated, body sanitised."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from pipeline.collect.every_problem import validate_front_matter
from pipeline.collect.front_matter import EventFields, FrontMatter
from pipeline.collect.item import CollectedItem, Event
from pipeline.collect.sanitize import sanitise_html
from pipeline.config import MEDIA_DIR
from pipeline.errors import ContentError, ContentProblems
from pipeline.yaml_text import load_yaml

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


def read_folder(
    content_dir: Path, *, timezone: str, topic_keys: Iterable[str], media_url: str = ""
) -> FolderResult:
    """Read every item file; a bad file is reported and the others are still read.

    `media_url` is where `serve` serves the folder's pictures (`{site.url}/media`): an
    item's `image: media/name.jpg` is stored as the address under it."""
    result = FolderResult()
    if not content_dir.is_dir():
        result.errors.append(ContentError(str(content_dir), "the content folder does not exist"))
        return result
    known_topics = set(topic_keys)
    for path in item_files(content_dir):
        try:
            item = read_item(path, content_dir, ZoneInfo(timezone), known_topics, media_url)
            result.items.append(item)
        except ContentError as error:
            result.errors.extend(error.problems)
            result.failed_keys.add(item_key(path.relative_to(content_dir)))
    return result


def item_key(relative: Path) -> str:
    return f"folder:{relative.as_posix()}"


def read_item(
    path: Path, content_dir: Path, zone: ZoneInfo, known_topics: set[str], media_url: str = ""
) -> CollectedItem:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(shown, f"not UTF-8 text ({exc.reason})") from exc
    if not text.lstrip().startswith("---"):
        raise ContentError(shown, "no front matter: the file must start with a `---` line", line=1)
    try:
        post = frontmatter.loads(text, handler=_FRONT_MATTER)
    except yaml.YAMLError as exc:
        # The YAML's first line is the rest of the opening `---` line.
        raise yaml_problem(shown, text, exc, text[: text.index("---")].count("\n") + 1) from exc
    if not isinstance(post.metadata, dict):
        raise ContentError(shown, "the front matter is not a mapping of keys", line=2)
    try:
        fields = validate_front_matter(post.metadata)
    except ValidationError as exc:
        raise ContentProblems([_describe(shown, text, error) for error in exc.errors()]) from exc
    unknown = [topic for topic in fields.topics if topic not in known_topics]
    if unknown:
        raise ContentError(
            shown,
            f"unknown topic(s) {', '.join(unknown)}; config.yaml's topics are "
            f"{', '.join(sorted(known_topics)) or '(none)'}",
            line=_line_of(text, "topics"),
            field="topics",
        )
    picture = fields.image or ""
    if picture.startswith(f"{MEDIA_DIR}/") and not (content_dir / picture).is_file():
        raise ContentError(
            shown,
            f"{picture} is not in the content folder ({content_dir / MEDIA_DIR})",
            line=_line_of(text, "image"),
            field="image",
        )
    return to_item(fields, post.content, path.relative_to(content_dir), zone, media_url)


class _FrontMatterYaml(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return load_yaml(fm)


_FRONT_MATTER = _FrontMatterYaml()


def _describe(path: str, text: str, error: ErrorDetails) -> ContentError:
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if not location and ": " in message:
        # A model-level rule names its field as `field: reason`.
        name, message = message.split(": ", 1)
        location = [name]
    field_name = ".".join(location) or None
    line = _line_of(text, location[-1]) if location else None
    if line is None and location:
        line = _line_of(text, location[0])
    if error["type"] == "missing":
        message = "required but missing"
    elif error["type"] == "extra_forbidden":
        return ContentError(path, _unknown_field(location), line=line)
    elif error["type"] == "literal_error" and isinstance(error["input"], str):
        allowed = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        close = difflib.get_close_matches(error["input"], allowed, n=1, cutoff=0.6)
        if close:
            message = f"{message}; did you mean {close[0]}?"
    return ContentError(path, message, line=line, field=field_name)


def _unknown_field(location: list[str]) -> str:
    """`unknown field sumary, did you mean summary?`: typos are what unknown fields are."""
    known = EventFields.model_fields if location[:1] == ["event"] else FrontMatter.model_fields
    name = ".".join(location)
    close = difflib.get_close_matches(location[-1], list(known), n=1, cutoff=0.6)
    if not close:
        return f"unknown field {name}; the fields are {', '.join(known)}"
    return f"unknown field {name}, did you mean {'.'.join([*location[:-1], close[0]])}?"


def yaml_problem(path: str, text: str, exc: yaml.YAMLError, first_line: int) -> ContentError:
    """A YAML error at the file's own line, with the usual cure where there is one.

    `first_line` is the file's line number (from 1) of the YAML text's first line."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ContentError(path, f"the front matter is not valid YAML ({exc})")
    line = first_line + mark.line
    problem = getattr(exc, "problem", None) or str(exc)
    reason = f"the front matter is not valid YAML: {problem}"
    source = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
    key, colon, value = source.partition(":")
    if problem.startswith("mapping values are not allowed") and colon:
        quoted = value.strip().replace('"', '\\"')
        reason += f'; a value with a colon in it needs quotes: {key.strip()}: "{quoted}"'
    return ContentError(path, reason, line=line)


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*:", text, flags=re.MULTILINE)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def _aware(moment: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def to_item(
    fields: FrontMatter, body: str, relative: Path, zone: ZoneInfo, media_url: str = ""
) -> CollectedItem:
    """The item a file's validated front matter and Markdown body make; a picture of the
    content folder gets its address under `media_url`."""
    image = fields.image
    if image is not None and image.startswith(f"{MEDIA_DIR}/"):
        image = f"{media_url}/{image.removeprefix(f'{MEDIA_DIR}/')}"
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
        image=image,
        image_alt=fields.image_alt,
        topics=tuple(fields.topics),
        published_at=_aware(fields.date, zone),
        event=event,
        ready=fields.status == "ready",
        publish_after=None if fields.publish_after is None else _aware(fields.publish_after, zone),
        expires=None if fields.expires is None else _aware(fields.expires, zone),
    )
