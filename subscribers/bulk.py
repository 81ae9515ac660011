"""Thousands of rows a statement: lists bound as one parameter, rows written by the driver.

An `IN` list of 2,000 addresses bound one parameter each costs SQLAlchemy and psycopg
more to render and parse than the database needs to answer it; bound as one parameter
that the database unpacks (PostgreSQL an array, SQLite a JSON array through json_each)
it costs one. Inserting with SQLAlchemy's executemany costs ~15 µs a row in its per-row
parameter handling; `insert_rows` applies each column type's own conversion (so the
values stored are exactly those an insert through SQLAlchemy stores) and hands the rows
to the driver: SQLite's executemany, PostgreSQL's COPY.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

SQLITE_BULK_CACHE_KIB = 32 * 1024
"""SQLite's page cache while a bulk write runs (its default is 2 MiB). Each new row goes
into three indexes, the address hash's at a random place: with the default cache most of
those pages are evicted and read back again; 32 MiB saved a fifth of the CPU time of an
import of 200,000 rows (bench/import.py)."""


@contextlib.contextmanager
def roomy_cache(connection: sa.Connection) -> Iterator[None]:
    """SQLite's page cache made `SQLITE_BULK_CACHE_KIB` for the block, then as it was."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def text_list(dialect: str, name: str) -> sa.Select[Any]:
    """Strings as a subquery for `column.in_(...)`, bound as `text_list_params(name)`."""
    if dialect == "postgresql":
        return sa.select(sa.func.unnest(sa.bindparam(name, type_=ARRAY(sa.Text))))
    values = sa.func.json_each(sa.bindparam(name, type_=sa.Text)).table_valued("value")
    return sa.select(values.c.value)


def text_list_params(dialect: str, name: str, values: Sequence[str]) -> dict[str, object]:
    if dialect == "postgresql":
        return {name: list(values)}
    return {name: json.dumps(list(values), ensure_ascii=False)}


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
) -> None:
    """Insert `rows` (values in the order of `columns`) in the open transaction."""
    dialect = connection.dialect
    converters = [_converter(table.c[name].type, dialect) for name in columns]
    converted = [
        tuple(convert(value) for value, convert in zip(row, converters, strict=True))
        for row in rows
    ]
    if not converted:
        return
    if dialect.name == "postgresql":
        # Here, not at the top: every command imports this package, and psycopg costs
        # 90 ms of start-up that a SQLite site (or a collect) never uses.
        from psycopg import sql as psycopg_sql

        copy_in = psycopg_sql.SQL("COPY {} ({}) FROM STDIN").format(
            psycopg_sql.Identifier(table.name),
            psycopg_sql.SQL(", ").join(psycopg_sql.Identifier(name) for name in columns),
        )
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(copy_in) as copy:
            for row in converted:
                copy.write_row(row)
        return
    # SQLite's own executemany. The names are the table's own, quoted by the dialect.
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    connection.exec_driver_sql(statement, converted)


def _converter(column_type: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Any:
    """The column type's bind conversion, done once for each distinct value of a batch:
    the moment every row of a batch shares, the few topic choices, the import's consent."""
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    done: dict[Any, Any] = {None: None}

    def convert(value: Any) -> Any:
        try:
            return done[value]
        except KeyError:
            done[value] = converted = process(value)
            return converted
        except TypeError:  # not hashable (a list): converted each time
            return process(value)

    return convert
