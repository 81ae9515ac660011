"""The issue's colours: WCAG contrast, and the dark-mode palette that mail apps switch to.

Body text needs a contrast of at least 4.5:1 on its background (WCAG 2.1, 1.4.3). The
light palette comes from `site.colors`; the dark one is fixed, chosen to keep the same
contrast where Apple Mail, iOS Mail and Outlook for Mac honour `prefers-color-scheme`.
"""

from __future__ import annotations

from collections.abc import Mapping

MINIMUM_CONTRAST = 4.5

# (foreground key, background key): every place the issue puts text on a colour.
TEXT_ON_BACKGROUND = (
    ("text", "card"),
    ("muted", "card"),
    ("brand", "card"),
    ("accent", "card"),
    ("brand_text", "brand"),
    ("muted", "page"),
    ("text", "page"),
)

DARK = {
    "brand": "#0f3d3a",
    "brand_text": "#f5f7fa",
    "accent": "#ffb48f",
    "page": "#121417",
    "card": "#1c1f24",
    "text": "#e8eaed",
    "muted": "#b3bcc6",
    "link": "#7fd6cc",
}

DARK_TEXT_ON_BACKGROUND = (
    ("text", "card"),
    ("muted", "card"),
    ("link", "card"),
    ("accent", "card"),
    ("brand_text", "brand"),
    ("muted", "page"),
)


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of `#rrggbb`."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def unreadable_pairs(
    colors: Mapping[str, str],
    pairs: tuple[tuple[str, str], ...] = TEXT_ON_BACKGROUND,
) -> list[str]:
    """Each pair below 4.5:1, described for an operator: `muted on card: 3.1:1`."""
    problems = []
    for foreground, background in pairs:
        ratio = contrast_ratio(colors[foreground], colors[background])
        if ratio < MINIMUM_CONTRAST:
            problems.append(
                f"{foreground} {colors[foreground]} on {background} {colors[background]} has "
                f"contrast {ratio:.1f}:1, below {MINIMUM_CONTRAST}:1"
            )
    return problems
