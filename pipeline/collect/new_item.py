"""`queue add`: a new item is written as a file in the content folder, the one place editors'
items live, so it is versioned with the others and `collect` keeps treating it the same way."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from pipeline.collect.folder import read_item
from pipeline.errors import ContentError


def slug(title: str) -> str:
    ascii_title = (
        unicodedata.normalize("NFKD", title.replace("ß", "ss")).encode("ascii", "ignore").decode()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60] or "beitrag"


def write_item_file(
    content_dir: Path,
    front_matter: dict[str, Any],
    body: str,
    *,
    timezone: str,
    topic_keys: set[str],
) -> Path:
    """Write a validated item file; nothing is left behind when it is invalid."""
    day = front_matter.get("date") or date.today()
    front_matter = {"date": day} | {k: v for k, v in front_matter.items() if v not in (None, [])}
    path = content_dir / f"{day:%Y-%m-%d}-{slug(str(front_matter.get('title', '')))}.md"
    if path.exists():
        raise ContentError(str(path), "a file of that name exists already; choose another title")
    text = "---\n" + yaml.safe_dump(front_matter, allow_unicode=True, sort_keys=False) + "---\n"
    if body.strip():
        text += body.strip() + "\n"
    content_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    # The editors' material, not readers' data: as open as its folder, not the umask's 0600.
    path.chmod(content_dir.stat().st_mode & 0o666)
    try:
        read_item(path, content_dir, ZoneInfo(timezone), topic_keys)
    except ContentError:
        path.unlink()
        raise
    return path
