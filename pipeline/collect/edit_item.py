"""Edits from the editors' desk, written back to the item's file so git stays the source.

Only the lines of the changed keys of the front matter are replaced; the other keys, the
comments and blank lines keep their place and their bytes (`front_matter_edit`), and the
body is kept byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from pipeline.collect.every_problem import validate_front_matter
from pipeline.collect.folder import read_item, yaml_problem
from pipeline.collect.front_matter_edit import edit_front_matter
from pipeline.errors import ContentError
from pipeline.yaml_text import load_yaml

_PARTS = re.compile(r"\A(?P<lead>\s*---[ \t]*\r?\n)(?P<meta>.*?)(?P<close>^---[ \t]*(\r?\n|\Z))",
                    re.DOTALL | re.MULTILINE)  # fmt: skip


def update_item_file(
    path: Path,
    changes: dict[str, Any],
    *,
    content_dir: Path,
    timezone: str,
    topic_keys: set[str],
    body: str | None = None,
) -> None:
    """Apply `changes` (None removes a key) to the file's front matter, validated first,
    and put `body` (Markdown) after it when given; the file's own body stays otherwise.

    Raises pydantic's ValidationError for invalid values and ContentError when the file
    cannot be read or the result does not read back; the file is unchanged then.
    """
    text = path.read_text(encoding="utf-8")
    match = _PARTS.match(text)
    if match is None:
        raise ContentError(str(path), "no front matter between `---` lines", line=1)
    try:
        metadata = load_yaml(match["meta"]) or {}
    except yaml.YAMLError as exc:
        raise yaml_problem(str(path), text, exc, match["lead"].count("\n") + 1) from exc
    if not isinstance(metadata, dict):
        raise ContentError(str(path), "the front matter is not a mapping of keys", line=2)
    original = dict(metadata)
    for key, value in changes.items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    validate_front_matter(metadata)
    changed = {k: v for k, v in changes.items() if original.get(k) != v}
    dumped = edit_front_matter(match["meta"], changed, metadata)
    rest = text[match.end() :]
    if body is not None and body.strip() != rest.strip():
        rest = body.strip() + "\n" if body.strip() else ""
    path.write_text(match["lead"] + dumped + match["close"] + rest, encoding="utf-8")
    try:
        read_item(path, content_dir, ZoneInfo(timezone), topic_keys)
    except ContentError:
        path.write_text(text, encoding="utf-8")
        raise


def read_body(path: Path) -> str:
    """The Markdown after an item file's front matter, as the editor wrote it."""
    text = path.read_text(encoding="utf-8")
    match = _PARTS.match(text)
    return "" if match is None else text[match.end() :]
