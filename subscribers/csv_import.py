"""CSV import: checks every row, reports each problem by row and column, writes on apply.

The columns and the checks of a row are in `import_rows`. The sheet is read a chunk of
rows at a time: the chunk's addresses are looked up in the store and on the suppression
list with one query each, and its new subscribers inserted with one statement each for
the rows and their history, so the cost of a round trip is shared by thousands of rows.

With `apply` the whole import is one transaction: an import stopped half-way (killed,
a crash, a lost connection, a full disk) leaves the store as it was, and running it
again imports every row. Until it commits, nobody sees a row of it; on SQLite the
other writers (sign-ups, webhooks) wait for it, seconds for 200,000 rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from subscribers import bulk, store, suppression
from subscribers.import_rows import ImportRow, RowProblem, read_chunks

__all__ = ["ImportReport", "ReportedRow", "RowProblem", "import_csv"]


@dataclass(frozen=True, slots=True)
class ReportedRow:
    """A row of the sheet the store took or already held, by its line number."""

    row: int
    email: str


@dataclass
class ImportReport:
    path: Path
    added: list[ReportedRow] = field(default_factory=list)
    known: list[ReportedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    applied: bool = False

    @property
    def refused(self) -> int:
        """Rows refused: a row with a bad address and an unknown topic is one row."""
        return len({problem.row for problem in self.problems})


def import_csv(
    engine: sa.Engine,
    path: Path,
    *,
    topic_keys: Sequence[str],
    consent_given_by: str | None,
    apply: bool,
    progress: Callable[[int], None] = lambda _line: None,
) -> ImportReport:
    """Check the file; with `apply`, add the new addresses as active in one transaction.

    Known addresses are left as they are: an import never re-activates someone who
    unsubscribed, bounced or complained. An address on the suppression list (erased,
    bounced, complained) is refused with its reason. `progress` is told the sheet's line
    reached after each chunk (see `import_rows.count_lines` for the last).
    """
    report = ImportReport(path)
    chunks = read_chunks(path, topic_keys=topic_keys, consent_given_by=consent_given_by)
    transaction = engine.begin() if apply else engine.connect()
    with transaction as connection, bulk.roomy_cache(connection):
        key = suppression.salt(connection)
        for chunk in chunks:
            report.problems += chunk.problems
            new = _sort_out(connection, key, chunk.rows, report)
            if apply:
                store.add_many(connection, new, state="active", key=key)
            progress(chunk.last_line)
        report.applied = apply
    report.problems.sort(key=lambda problem: problem.row)
    return report


def _sort_out(
    connection: sa.Connection, key: str, rows: list[ImportRow], report: ImportReport
) -> list[ImportRow]:
    """The rows of a chunk the store does not hold and may take; the others reported."""
    known = store.known_emails(connection, [row.email for row in rows])
    reasons = suppression.reasons_for(
        connection, key, [row.email for row in rows if row.email not in known]
    )
    new: list[ImportRow] = []
    for row in rows:
        if row.email in known:
            report.known.append(ReportedRow(row.row, row.email))
        elif (reason := reasons.get(row.email)) is not None:
            report.problems.append(
                RowProblem(row.row, "email", f"is on the suppression list ({reason})")
            )
        else:
            report.added.append(ReportedRow(row.row, row.email))
            new.append(row)
    return new
