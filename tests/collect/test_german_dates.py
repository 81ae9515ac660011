"""Dates as German websites write them, and the days no calendar has."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.collect.german_dates import parse_german_date


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("17. Februar 2022", date(2022, 2, 17)),
        ("17.02.2022", date(2022, 2, 17)),
        ("17. Feb. 2022", date(2022, 2, 17)),
        ("3. März 2026", date(2026, 3, 3)),
        ("1. Mai 2026", date(2026, 5, 1)),
        ("05. Dez. 2026", date(2026, 12, 5)),
        ("Do, 05.11.2026, 18:00 Uhr", date(2026, 11, 5)),
        ("Veröffentlicht am 9.1.2026 von Redaktion", date(2026, 1, 9)),
        ("17.02.22", date(2022, 2, 17)),
        ("2026-11-28T18:00:00+01:00", date(2026, 11, 28)),
        ("28 November 2026", date(2026, 11, 28)),
        ("12. Jänner 2027", date(2027, 1, 12)),
    ],
)
def test_dates_as_websites_write_them_are_read(written: str, day: date) -> None:
    assert parse_german_date(written) == day


@pytest.mark.parametrize(
    "written", ["31.02.2022", "vor einer Woche", "Mai 2022", "17. Brumaire 2022", "", "2022"]
)
def test_text_naming_no_day_of_the_calendar_gives_no_date(written: str) -> None:
    assert parse_german_date(written) is None
