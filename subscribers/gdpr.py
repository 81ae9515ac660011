"""What the GDPR asks of the store: show a person everything held on them, and erase it.

The export walks every table that points at the subscriber (the delivery ledger, the
clicks and opens kept under personalised statistics) and shows with each row what its
other references name (a click's link and issue), so it reads without the database.
Erasing deletes the subscriber and every row that refers to them (the state-change log,
and any table of the pipeline's that points at the subscriber, such as the delivery
ledger and their clicks and opens), and keeps only a salted hash on the suppression
list, so that a later import cannot bring the address back without a new opt-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from subscribers import store, suppression
from subscribers.addresses import normalise_address
from subscribers.schema import metadata, subscriber_events, subscribers


def export_person(connection: sa.Connection, email: str) -> dict[str, Any] | None:
    """All data held on one address, as JSON-ready values; None when nothing is held."""
    address = normalise_address(email)
    row = connection.execute(sa.select(subscribers).where(subscribers.c.email == address)).first()
    suppressed = suppression.reason_for(connection, address)
    if row is None:
        return None if suppressed is None else {"email": address, "suppressed": suppressed}
    record = row._mapping
    return {
        "email": record["email"],
        "name": record["name"],
        "locale": record["locale"],
        "topics": list(record["topics"] or ()),
        "state": record["state"],
        "consent": {
            "at": record["consent_at"].isoformat() if record["consent_at"] else None,
            "source": record["consent_source"],
            "detail": record["consent_detail"],
            "text_version": record["consent_text_version"],
            "ip": record["consent_ip"],
        },
        "stats_consent": None
        if record["stats_consent_at"] is None
        else {
            "at": record["stats_consent_at"].isoformat(),
            "text_version": record["stats_consent_text_version"],
        },
        "soft_bounces": record["soft_bounces"],
        "created_at": record["created_at"].isoformat(),
        "updated_at": record["updated_at"].isoformat(),
        "history": store.history(connection, record["id"]),
        "suppressed": suppressed,
        "records": _records_referring_to(connection, record["id"]),
    }


def _records_referring_to(connection: sa.Connection, subscriber_id: int) -> dict[str, Any]:
    """Rows of the other tables that point at the subscriber (the delivery ledger, say),
    and the rows that point at those (what a mail service said of each delivery)."""
    found: dict[str, Any] = {}
    for table in _tables_referring_to_subscribers():
        if table is subscriber_events:
            continue
        for column in _subscriber_columns(table):
            rows = connection.execute(sa.select(table).where(column == subscriber_id)).all()
            if rows:
                named = _with_what_they_name(connection, table, rows)
                found.setdefault(table.name, []).extend(named)
                _add_rows_pointing_at(connection, table, rows, found)
    return found


def _with_what_they_name(
    connection: sa.Connection, table: sa.Table, rows: Sequence[sa.Row[Any]]
) -> list[dict[str, object]]:
    """The rows, each with the row every other reference of theirs names: `link_id` gives
    a `link` (its URL), `issue_id` an `issue` (its number and subject)."""
    plain = _plain_rows(rows)
    for fk in table.foreign_keys:
        named_table = fk.column.table
        if named_table is subscribers or fk.parent.name.removesuffix("_id") in table.c:
            continue
        keys = {row._mapping[fk.parent.name] for row in rows} - {None}
        named = {
            row._mapping[fk.column.name]: _plain_rows([row])[0]
            for row in connection.execute(sa.select(named_table).where(fk.column.in_(keys)))
        }
        for record in plain:
            record[fk.parent.name.removesuffix("_id")] = named.get(record[fk.parent.name])
    return plain


def _add_rows_pointing_at(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[sa.Row[Any]],
    found: dict[str, Any],
) -> None:
    for other in metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or other is subscribers:
                continue
            keys = [row._mapping[fk.column.name] for row in rows]
            pointing = connection.execute(sa.select(other).where(fk.parent.in_(keys))).all()
            if pointing:
                found.setdefault(other.name, []).extend(_plain_rows(pointing))


def _plain_rows(rows: Sequence[sa.Row[Any]]) -> list[dict[str, object]]:
    return [{key: _plain(value) for key, value in row._mapping.items()} for row in rows]


def _plain(value: object) -> object:
    if isinstance(value, bytes):  # a bounce message as it came back: the person's mail
        return value.decode("utf-8", errors="replace")
    return value.isoformat() if isinstance(value, datetime) else value


def erase(connection: sa.Connection, email: str) -> bool:
    """Delete everything held on the address; returns whether anything was held."""
    address = normalise_address(email)
    found = store.find(connection, address)
    suppression.suppress(connection, address, "erased")
    if found is None:
        return False
    for table in _tables_referring_to_subscribers():
        for column in _subscriber_columns(table):
            connection.execute(sa.delete(table).where(column == found.id))
    connection.execute(sa.delete(subscribers).where(subscribers.c.id == found.id))
    return True


def _subscriber_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [
        column
        for column in table.columns
        if any(fk.column is subscribers.c.id for fk in column.foreign_keys)
    ]


def _tables_referring_to_subscribers() -> list[sa.Table]:
    return [
        table
        for table in reversed(metadata.sorted_tables)
        if table is not subscribers
        and any(fk.column is subscribers.c.id for fk in table.foreign_keys)
    ]
