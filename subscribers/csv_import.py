"""CSV import: checks every row first, reports each problem by row and column, writes on apply.

Columns: `email` (required), `name`, `locale` (de|en), `topics` (separated by `;`),
`consent_at` (ISO date-time of the recorded consent). A row without `consent_at` is
refused unless the operator names who vouches for the consent.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from subscribers import store, suppression
from subscribers.addresses import InvalidAddress, normalise_address

LOCALES = ("de", "en")


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True)
class ImportRow:
    row: int
    email: str
    name: str
    locale: str
    topics: tuple[str, ...]
    consent: store.Consent


@dataclass
class ImportReport:
    path: Path
    added: list[ImportRow] = field(default_factory=list)
    known: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    applied: bool = False


def read_rows(
    path: Path, *, topic_keys: Sequence[str], consent_given_by: str | None
) -> tuple[list[ImportRow], list[RowProblem]]:
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "email" not in reader.fieldnames:
            return [], [RowProblem(1, "email", "the header row has no `email` column")]
        for record in reader:
            # The header is line 1, so the first data row is row 2, as a spreadsheet shows it.
            row_number = reader.line_num
            parsed = _parse_row(row_number, record, topic_keys, consent_given_by, problems)
            if parsed is None:
                continue
            if parsed.email in seen:
                problems.append(RowProblem(row_number, "email", "repeats an earlier row"))
                continue
            seen.add(parsed.email)
            rows.append(parsed)
    return rows, problems


def _parse_row(
    row: int,
    record: dict[str, str | None],
    topic_keys: Sequence[str],
    consent_given_by: str | None,
    problems: list[RowProblem],
) -> ImportRow | None:
    before = len(problems)
    try:
        email = normalise_address(record.get("email") or "")
    except InvalidAddress as exc:
        problems.append(RowProblem(row, "email", str(exc)))
        email = ""
    locale = (record.get("locale") or "de").strip().lower()
    if locale not in LOCALES:
        problems.append(RowProblem(row, "locale", f"{locale!r} is not one of {', '.join(LOCALES)}"))
    topics = tuple(t.strip() for t in (record.get("topics") or "").split(";") if t.strip())
    unknown = [t for t in topics if t not in topic_keys]
    if unknown:
        problems.append(RowProblem(row, "topics", f"unknown topic(s): {', '.join(unknown)}"))
    consent = _consent(row, (record.get("consent_at") or "").strip(), consent_given_by, problems)
    if len(problems) > before or consent is None:
        return None
    name = (record.get("name") or "").strip()
    return ImportRow(row, email, name, locale, topics, consent)


def _consent(
    row: int, consent_at: str, consent_given_by: str | None, problems: list[RowProblem]
) -> store.Consent | None:
    if consent_at:
        try:
            moment = datetime.fromisoformat(consent_at)
        except ValueError:
            problems.append(RowProblem(row, "consent_at", f"{consent_at!r} is not an ISO date"))
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return store.Consent("import", "consent_at column of the imported file", moment)
    if consent_given_by:
        return store.Consent("import", f"vouched for by {consent_given_by}", datetime.now(UTC))
    problems.append(
        RowProblem(row, "consent_at", "no recorded consent; pass --consent-given-by to vouch")
    )
    return None


def import_csv(
    engine: sa.Engine,
    path: Path,
    *,
    topic_keys: Sequence[str],
    consent_given_by: str | None,
    apply: bool,
) -> ImportReport:
    """Check the file; with `apply`, add the new addresses as active in one transaction.

    Known addresses are left as they are: an import never re-activates someone who
    unsubscribed, bounced or complained. An address on the suppression list (erased,
    bounced, complained) is refused with its reason.
    """
    report = ImportReport(path)
    rows, report.problems = read_rows(
        path, topic_keys=topic_keys, consent_given_by=consent_given_by
    )
    with engine.begin() as connection:
        for row in rows:
            if store.find(connection, row.email) is not None:
                report.known.append(row)
                continue
            reason = suppression.reason_for(connection, row.email)
            if reason is not None:
                report.problems.append(
                    RowProblem(row.row, "email", f"is on the suppression list ({reason})")
                )
                continue
            report.added.append(row)
            if apply:
                store.add(
                    connection,
                    email=row.email,
                    name=row.name,
                    locale=row.locale,
                    topics=row.topics,
                    state="active",
                    consent=row.consent,
                )
        report.applied = apply
    report.problems.sort(key=lambda problem: problem.row)
    return report
