"""A calendar's series in the editors' lists: its waiting occurrences as one row.

Sixty partners' weekly events would otherwise bury the news under ninety days of dates.
An occurrence of a series has the key `calendar:<url>#<uid>@<recurrence id>` (see
`pipeline.collect.calendars`); a single event has no recurrence id. Pure functions.
"""

from __future__ import annotations

import re
from typing import Any

_OCCURRENCE = re.compile(r"^(calendar:.+)@\d{8}T\d{6}Z$")


def series_of(key: str) -> str | None:
    """The series an item's key names, or None for anything but a series' occurrence."""
    match = _OCCURRENCE.match(key)
    return None if match is None else match[1]


def fold_series(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows in their order, but each series' occurrences in one state as one row in
    the place of its first: the soonest occurrence, with `series_count`, how many there
    are (every row has it: 1 for anything else)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    order: list[dict[str, Any] | tuple[str, str]] = []
    for row in rows:
        series = series_of(row["key"])
        if series is None:
            order.append(row)
            continue
        group = (series, row["state"])
        if group not in groups:
            groups[group] = []
            order.append(group)
        groups[group].append(row)
    folded = []
    for entry in order:
        if isinstance(entry, dict):
            folded.append(entry | {"series_count": 1})
        else:
            members = groups[entry]
            soonest = min(members, key=lambda row: (row["event_start"] or "", row["id"]))
            folded.append(soonest | {"series_count": len(members)})
    return folded
