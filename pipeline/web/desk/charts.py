"""Horizontal bar charts drawn on the server as SVG: the desk runs no scripts.

Pure geometry: the template draws what `bar_chart` measures. A bar's length is a share
(0 to 1) of the full length; what it is a share of is the caller's to say in its label.
"""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 190
"""Room for a bar's name at its left, in SVG units."""
BAR_AREA = 300
VALUE_WIDTH = 280
"""Room for the figure written after the longest bar."""
BAR_HEIGHT = 18
GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str
    """The value as the page writes it after the bar (formatted for the locale)."""
    tone: str
    """reader, machine or agreed: the bar's colour (and a pattern for machines)."""
    y: int
    length: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


def bar_chart(rows: list[tuple[str, float, str, str]]) -> Chart:
    """rows: (label, share of the full length, shown value, tone). A share above nought
    always gets a bar of at least 2 units, so that it is seen."""
    bars = []
    for index, (label, share, shown, tone) in enumerate(rows):
        length = max(round(BAR_AREA * min(share, 1.0)), 2 if share > 0 else 0)
        bars.append(Bar(label, shown, tone, GAP + index * (BAR_HEIGHT + GAP), length))
    height = GAP + len(rows) * (BAR_HEIGHT + GAP)
    return Chart(LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, height, LABEL_WIDTH, BAR_HEIGHT, bars)
