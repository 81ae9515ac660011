"""A linked article's main text as an item's summary, when the page gives no teaser.

trafilatura finds the text among menus, footers and cookie banners; the summary is its
beginning, cut at the end of a sentence where one ends late enough, else at a word.
Imported only when an article is read: trafilatura takes a while to load.
"""

from __future__ import annotations

import re

SUMMARY_CHARS = 400
HEADING_CHARS = 150
_SENTENCE_END = re.compile(r"(?<=[^\d\s.][.!?…])[\"”“»«]?(?=\s)")


def article_text(html: str, url: str) -> str:
    """The article's main text on one line, or "" when none is found; the headings it
    starts with (its title, a kicker) are left out: the item shows its own title."""
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,  # its cache spans calls: a text seen before would be cut
    )
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    while len(lines) > 1 and _heading(lines[0]):
        lines.pop(0)
    return " ".join(lines)


def _heading(line: str) -> bool:
    return len(line) <= HEADING_CHARS and not line.endswith((".", "!", "?", "…", ":", '"', "“"))


def shorten_sensibly(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` whole when it fits, else up to the last sentence end within `limit` (if that
    keeps at least half of it), else up to the last whole word with an ellipsis."""
    if len(text) <= limit:
        return text
    window = text[: limit + 1]
    ends = [match.end() for match in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= limit // 2:
        return window[: ends[-1]]
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + " …"
