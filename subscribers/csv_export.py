"""CSV export, safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
by Excel and LibreOffice (OWASP "CSV injection"); such a cell is written with a leading
apostrophe, which spreadsheets show as text and hide.
"""

from __future__ import annotations

import csv
from typing import TextIO

import sqlalchemy as sa

from subscribers.schema import subscribers

COLUMNS = ("email", "name", "locale", "topics", "state", "consent_at", "consent_source")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_csv(connection: sa.Connection, out: TextIO) -> int:
    """Write every subscriber as a row importable by `subscribers import`; returns the count."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in connection.execute(sa.select(subscribers).order_by(subscribers.c.id)):
        consent_at = row.consent_at.isoformat() if row.consent_at else ""
        values = (
            row.email,
            row.name,
            row.locale,
            ";".join(row.topics or ()),
            row.state,
            consent_at,
            row.consent_source or "",
        )
        writer.writerow([spreadsheet_safe(str(value)) for value in values])
        count += 1
    return count
