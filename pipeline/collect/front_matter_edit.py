"""Changing keys of a front matter in its text, so the rest stays byte for byte.

Only the lines of a changed top-level key are replaced (a key and the indented lines
under it); comments, blank lines, order and quoting of the other keys are kept. A key
new to the file goes at the end. What the edit gives is read back and compared with
the intended mapping; a layout this cannot follow (flow style, anchors spanning keys)
is written anew instead, which is correct but keeps no comments.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_KEY = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?=[ \t]|$)")


def _block(lines: list[str], start: int) -> int:
    """The end (exclusive) of the key at `start`: its indented lines, without the blank
    lines or column-0 comments that follow them."""
    end = start + 1
    last = start + 1
    while end < len(lines):
        line = lines[end]
        if line[:1] in (" ", "\t"):
            end += 1
            last = end
        elif not line.strip():
            end += 1
        else:
            break
    return last


def _dump(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=1000)


def edit_front_matter(meta: str, changes: dict[str, Any], intended: dict[str, Any]) -> str:
    """`meta` with `changes` applied (None removes a key); `intended` is the mapping the
    result must read as."""
    lines = meta.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for key, value in changes.items():
        starts = [i for i, line in enumerate(lines) if (m := _KEY.match(line)) and m["key"] == key]
        if len(starts) > 1:
            break
        replacement = [] if value is None else _dump(key, value).splitlines(keepends=True)
        if starts:
            start = starts[0]
            lines[start : _block(lines, start)] = replacement
        else:
            lines.extend(replacement)
    else:
        edited = "".join(lines)
        try:
            if (yaml.safe_load(edited) or {}) == intended:
                return edited
        except yaml.YAMLError:
            pass
    return yaml.safe_dump(intended, allow_unicode=True, sort_keys=False)
