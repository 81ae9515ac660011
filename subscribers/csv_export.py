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
STREAM_ROWS = 2000


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_csv(connection: sa.Connection, out: TextIO) -> int:
    """Write every subscriber as a row importable by `subscribers import`; returns the count.

    The rows are streamed (a server-side cursor on PostgreSQL, SQLite steps through its
    own), so memory stays the same for any number of subscribers.
    """
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    everyone = sa.select(*(subscribers.c[name] for name in COLUMNS)).order_by(subscribers.c.id)
    for row in connection.execute(everyone.execution_options(yield_per=STREAM_ROWS)):
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
