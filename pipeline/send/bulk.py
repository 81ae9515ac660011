"""A batch's per-row values as one bound parameter the database unpacks into rows.

Recording a batch of 1,000 results as an executemany cost ~14 µs a row in SQLAlchemy's
per-row parameter handling, seven times what SQLite itself needs (bench/send.py). One
statement that joins the table with the unpacked rows keeps the cost per batch:
PostgreSQL unnests two arrays, SQLite walks a JSON array with json_each.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.selectable import NamedFromClause


def id_values(dialect: sa.Dialect, rows: Sequence[tuple[int, str | None]]) -> NamedFromClause:
    """(id, value) rows as a FROM clause with columns `id` and `value`."""
    if dialect.name == "postgresql":
        ids = [row_id for row_id, _ in rows]
        values = [value for _, value in rows]
        return (
            sa.func.unnest(
                sa.cast(sa.literal(ids, ARRAY(sa.BigInteger)), ARRAY(sa.BigInteger)),
                sa.cast(sa.literal(values, ARRAY(sa.Text)), ARRAY(sa.Text)),
            )
            .table_valued("id", "value")
            .render_derived()
        )
    pairs = sa.func.json_each(orjson.dumps(rows).decode()).table_valued("value")
    return (
        sa.select(
            sa.func.json_extract(pairs.c.value, "$[0]").label("id"),
            sa.func.json_extract(pairs.c.value, "$[1]").label("value"),
        )
        .select_from(pairs)
        .subquery()
    )


def ids(dialect: sa.Dialect, row_ids: Sequence[int]) -> sa.Select[tuple[int]]:
    """Row ids as a subquery for `column.in_(...)`: one parameter however many ids."""
    if dialect.name == "postgresql":
        array = sa.cast(sa.literal(list(row_ids), ARRAY(sa.BigInteger)), ARRAY(sa.BigInteger))
        return sa.select(sa.func.unnest(array))
    values = sa.func.json_each(orjson.dumps(list(row_ids)).decode()).table_valued("value")
    return sa.select(values.c.value)
