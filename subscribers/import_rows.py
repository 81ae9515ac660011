"""Reading an import sheet: every row checked on its own, in chunks, without the database.

Columns: `email` (required), `name`, `locale` (de|en), `topics` (separated by `;`),
`consent_at` (ISO date-time of the recorded consent). A row without `consent_at` is
refused unless the operator names who vouches for the consent; that vouching is one act,
recorded with the moment the import started.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from subscribers import store
from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.names import clean_name

LOCALES = ("de", "en")
CHUNK_ROWS = 2000
"""Rows checked against the store per query: large enough that a round trip costs little
per row, small enough for SQLite's limit on bound parameters (the suppression lookup
binds two hashes a row)."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportRow(store.NewSubscriber):
    row: int


@dataclass
class Chunk:
    """Consecutive rows of the sheet: those that passed, the problems of the others."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    last_line: int = 1
    """The sheet's line the chunk ends on (the header is line 1)."""


def count_lines(path: Path) -> int:
    """Lines of the file, header included: what a progress bar counts up to."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def read_chunks(
    path: Path,
    *,
    topic_keys: Sequence[str],
    consent_given_by: str | None,
    size: int = CHUNK_ROWS,
) -> Iterator[Chunk]:
    """The sheet's rows, checked, `size` at a time; a repeated address is a problem of the
    later row. The whole file is never held: memory stays the same for any length."""
    vouched = (
        None
        if not consent_given_by
        else store.Consent("import", f"vouched for by {consent_given_by}", datetime.now(UTC))
    )
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        if "email" not in header:
            yield Chunk(problems=[RowProblem(1, "email", "the header row has no `email` column")])
            return
        chunk = Chunk()
        for record in reader:
            if not record:
                continue  # a blank line is no row, as for csv.DictReader
            # The header is line 1, so the first data row is row 2, as a spreadsheet shows it.
            row_number = reader.line_num
            cells = dict(zip(header, record, strict=False))
            parsed = _check_row(row_number, cells, topic_keys, vouched, chunk.problems)
            if parsed is not None:
                if parsed.email in seen:
                    chunk.problems.append(RowProblem(row_number, "email", "repeats an earlier row"))
                else:
                    seen.add(parsed.email)
                    chunk.rows.append(parsed)
            chunk.last_line = row_number
            if len(chunk.rows) + len(chunk.problems) >= size:
                yield chunk
                chunk = Chunk(last_line=row_number)
        yield chunk


def _check_row(
    row: int,
    cells: dict[str, str],
    topic_keys: Sequence[str],
    vouched: store.Consent | None,
    problems: list[RowProblem],
) -> ImportRow | None:
    before = len(problems)
    try:
        email = normalise_address(cells.get("email", ""))
    except InvalidAddress as exc:
        problems.append(RowProblem(row, "email", str(exc)))
        email = ""
    locale = (cells.get("locale") or "de").strip().lower()
    if locale not in LOCALES:
        problems.append(RowProblem(row, "locale", f"{locale!r} is not one of {', '.join(LOCALES)}"))
    topics = tuple(t.strip() for t in cells.get("topics", "").split(";") if t.strip())
    unknown = [t for t in topics if t not in topic_keys]
    if unknown:
        problems.append(RowProblem(row, "topics", f"unknown topic(s): {', '.join(unknown)}"))
    consent = _consent(row, cells.get("consent_at", "").strip(), vouched, problems)
    if len(problems) > before or consent is None:
        return None
    name = clean_name(cells.get("name", ""))
    return ImportRow(email=email, name=name, locale=locale, topics=topics, consent=consent, row=row)


def _consent(
    row: int, consent_at: str, vouched: store.Consent | None, problems: list[RowProblem]
) -> store.Consent | None:
    if consent_at:
        try:
            moment = datetime.fromisoformat(consent_at)
        except ValueError:
            problems.append(RowProblem(row, "consent_at", f"{consent_at!r} is not an ISO date"))
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return store.Consent("import", "consent_at column of the imported file", moment)
    if vouched is not None:
        return vouched
    problems.append(
        RowProblem(row, "consent_at", "no recorded consent; pass --consent-given-by to vouch")
    )
    return None
