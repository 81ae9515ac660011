"""Dates as German websites write them: "17. Februar 2022", "17. Feb. 2022", "17.02.2022".

Also the ISO form of a `<time datetime>` attribute and English month names, which
listing pages built with international themes show. A weekday or a time around the date
("Do, 17.02.2022, 18 Uhr") is ignored. Pure functions: no locale of the machine is used.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    "januar": 1, "jänner": 1, "january": 1, "februar": 2, "february": 2, "märz": 3,
    "maerz": 3, "march": 3, "april": 4, "mai": 5, "may": 5, "juni": 6, "june": 6, "juli": 7,
    "july": 7, "august": 8, "september": 9, "oktober": 10, "october": 10, "november": 11,
    "dezember": 12, "december": 12,
}  # fmt: skip
_ABBREVIATIONS = {
    "jan": 1, "jän": 1, "feb": 2, "febr": 2, "mär": 3, "mrz": 3, "mar": 3, "apr": 4,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "oct": 10, "nov": 11,
    "dez": 12, "dec": 12,
}  # fmt: skip
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORDS = re.compile(r"(?<!\d)(\d{1,2})\.?\s*([^\W\d_]+)\.?\s+(\d{4})(?!\d)")


def parse_german_date(text: str) -> date | None:
    """The first date in `text`, or None when it names none (or one no calendar has)."""
    text = " ".join(text.split())
    for pattern, reader in ((_ISO, _from_iso), (_NUMERIC, _from_numeric), (_WORDS, _from_words)):
        for match in pattern.finditer(text):
            found = reader(match)
            if found is not None:
                return found
    return None


def _from_iso(match: re.Match[str]) -> date | None:
    return _date(int(match[1]), int(match[2]), int(match[3]))


def _from_numeric(match: re.Match[str]) -> date | None:
    year = int(match[3])
    if len(match[3]) == 2:
        year += 2000  # "17.02.22": websites name this century's days
    return _date(year, int(match[2]), int(match[1]))


def _from_words(match: re.Match[str]) -> date | None:
    name = match[2].casefold()
    month = _MONTHS.get(name) or _ABBREVIATIONS.get(name)
    return None if month is None else _date(int(match[3]), month, int(match[1]))


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
