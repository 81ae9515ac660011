"""A batch's per-row values as one bound parameter the database unpacks into rows.

Recording a batch of 1,000 results as an executemany cost ~14 µs a row in SQLAlchemy's
per-row parameter handling, seven times what SQLite itself needs (bench/send.py). One
statement that joins the table with the unpacked rows keeps the cost per batch:
PostgreSQL unnests arrays, SQLite walks a JSON array with json_each. The statements are
built once per dialect, with named parameters, because a send of one message per call
records hundreds of small batches a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.selectable import NamedFromClause

Params = dict[str, object]


def id_value_rows(dialect: str) -> NamedFromClause:
    """A FROM clause of (id, value) rows, filled by `id_value_params`; `dialect` by name."""
    if dialect == "postgresql":
        return (
            sa.func.unnest(
                sa.bindparam("row_ids", type_=ARRAY(sa.BigInteger)),
                sa.bindparam("row_values", type_=ARRAY(sa.Text)),
            )
            .table_valued("id", "value")
            .render_derived()
        )
    pairs = sa.func.json_each(sa.bindparam("rows", type_=sa.Text)).table_valued("value")
    return (
        sa.select(
            sa.func.json_extract(pairs.c.value, "$[0]").label("id"),
            sa.func.json_extract(pairs.c.value, "$[1]").label("value"),
        )
        .select_from(pairs)
        .subquery()
    )


def id_value_params(dialect: str, rows: Sequence[tuple[int, str | None]]) -> Params:
    if dialect == "postgresql":
        return {
            "row_ids": [row_id for row_id, _ in rows],
            "row_values": [value for _, value in rows],
        }
    return {"rows": orjson.dumps(rows).decode()}


def id_list(dialect: str) -> sa.Select[int]:
    """Row ids as a subquery for `column.in_(...)`, filled by `id_list_params`."""
    if dialect == "postgresql":
        return sa.select(sa.func.unnest(sa.bindparam("row_ids", type_=ARRAY(sa.BigInteger))))
    values = sa.func.json_each(sa.bindparam("rows", type_=sa.Text)).table_valued("value")
    return sa.select(values.c.value)


def id_list_params(dialect: str, row_ids: Sequence[int]) -> Params:
    if dialect == "postgresql":
        return {"row_ids": list(row_ids)}
    return {"rows": orjson.dumps(row_ids).decode()}
