"""Extract feedparser's sanitisation test cases into tests/fixtures/feedparser-sanitize.json.

feedparser's sdist ships one feed per case under tests/wellformed/sanitize/. Each entry's
HTML is taken raw (feedparser's own sanitiser off, as pipeline/collect/normalize.py parses),
so the test runs it through our sanitiser alone. Run after `pip download feedparser==X
--no-deps --no-binary :all:` and unpacking: `python scripts/vendor_feedparser_sanitize.py
feedparser-X/tests/wellformed/sanitize`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import feedparser

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "feedparser-sanitize.json"
NOTICE = (
    "From feedparser's test suite (tests/wellformed/sanitize), "
    "Copyright 2010-2025 Kurt McKee, 2002-2008 Mark Pilgrim; "
    "BSD 2-Clause licence, see feedparser-sanitize.LICENSE."
)


def entry_html(path: Path) -> list[str]:
    parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
    found: list[str] = []
    for entry in parsed.entries:
        for content in entry.get("content", []):
            found.append(content.get("value", ""))
        for key in ("summary", "title"):
            if entry.get(key):
                found.append(entry[key])
    return [html for html in found if html.strip()]


def main(folder: str) -> None:
    cases = {}
    for path in sorted(Path(folder).glob("*.xml")):
        html = entry_html(path)
        if html:
            cases[path.stem] = sorted(set(html))
    OUT.write_text(
        json.dumps({"notice": NOTICE, "cases": cases}, ensure_ascii=False, indent=0) + "\n"
    )
    print(f"{len(cases)} cases written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
