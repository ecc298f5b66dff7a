"""How a batch's rows reach the view tables: many rows per statement, read by key.

A batch writes thousands of rows to a few tables, and reads back the few hundred stored
rows it folds into (tallies, balances). Each kind of write is one statement for all of a
batch's rows, shaped for the dialect:

- SQLite runs in the process: one statement per row costs little there, and what counts
  is the Python around it. The statement is compiled once per process and each row's
  values go through their columns' bind processors straight to the driver's
  `executemany` (SQLAlchemy's per-row parameter handling was most of a batch's time).
- PostgreSQL is a round trip away, and the driver's `executemany` still sends a
  statement per row: the rows go as one array per column instead, unnested into rows by
  the server, in one statement of a few parameters whatever the number of rows.

Reads by key join the keys with the table, one index lookup per key (see `rows_by_keys`).
Rows written in one statement have distinct keys (an upsert cannot touch a row twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, Dialect, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine

Row = dict[str, Any]
Key = tuple[Any, ...]


def insert(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert rows (each holding every column of the table)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        names = [c.name for c in table.columns]
        _unnested(conn, table, names, rows, _insert_sql(conn, table, names))
        return
    _sqlite_many(conn, ("insert", table.name), table.insert, rows)


def insert_tuples(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """`insert` of rows given as tuples of every column's value, in the table's order: a
    batch inserts thousands of audit entries, which then need no dict each."""
    if not rows:
        return
    names = [c.name for c in table.columns]
    columns = [list(column) for column in zip(*rows, strict=True)]
    if conn.dialect.name == "postgresql":
        sql = _insert_sql(conn, table, names)
        conn.exec_driver_sql(sql, tuple(_arrays_of(conn, table, names, columns)))
        return
    sql, bound, processors = _sqlite_compiled(conn, ("insert", table.name), table.insert)
    if bound != names:  # not expected: SQLAlchemy binds an insert's columns in order
        insert(conn, table, [dict(zip(names, row, strict=True)) for row in rows])
        return
    _sqlite_execute(conn, sql, processors, columns)


def upsert(conn: Connection, table: Table, rows: Sequence[Row], keys: Sequence[str]) -> None:
    """Insert rows, or replace every other column of the rows whose keys exist."""
    if not rows:
        return
    others = [c.name for c in table.columns if c.name not in keys]
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        names = [c.name for c in table.columns]
        conflict = f" ON CONFLICT ({', '.join(quote(name) for name in keys)}) DO " + (
            "UPDATE SET " + ", ".join(f"{quote(n)} = EXCLUDED.{quote(n)}" for n in others)
            if others
            else "NOTHING"
        )
        _unnested(conn, table, names, rows, _insert_sql(conn, table, names) + conflict)
        return

    def statement() -> Any:
        done = sqlite.insert(table)
        if not others:
            return done.on_conflict_do_nothing(index_elements=list(keys))
        return done.on_conflict_do_update(
            index_elements=list(keys), set_={name: done.excluded[name] for name in others}
        )

    _sqlite_many(conn, ("upsert", table.name, tuple(keys)), statement, rows)


def update(
    conn: Connection, table: Table, key: str, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """Set `columns` of the rows whose `key` column holds each row's `key`."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        names = [key, *columns]
        sql = (
            f"UPDATE {quote(table.name)} AS t SET "  # noqa: S608 - the tables' own names
            + ", ".join(f"{quote(name)} = v.{quote(name)}" for name in columns)
            + f" FROM {_unnest(conn, table, names)} WHERE t.{quote(key)} = v.{quote(key)}"
        )
        _unnested(conn, table, names, rows, sql)
        return

    def statement() -> Any:
        # Bound names differ from the columns' own: SQLAlchemy reserves those.
        return (
            table.update()
            .where(table.c[key] == bindparam(f"k_{key}"))
            .values({name: bindparam(f"v_{name}") for name in columns})
        )

    bound = [{f"k_{key}": row[key], **{f"v_{name}": row[name] for name in columns}} for row in rows]
    _sqlite_many(conn, ("update", table.name, key, tuple(columns)), statement, bound)


def delete(conn: Connection, table: Table, keys: Sequence[Key]) -> None:
    """Delete the rows of these primary keys (each in the primary key's column order)."""
    if not keys:
        return
    names = [c.name for c in table.primary_key.columns]
    rows = [dict(zip(names, key, strict=True)) for key in keys]
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        sql = (
            f"DELETE FROM {quote(table.name)} AS t USING {_unnest(conn, table, names)} "  # noqa: S608
            "WHERE " + " AND ".join(f"t.{quote(name)} = v.{quote(name)}" for name in names)
        )
        _unnested(conn, table, names, rows, sql)
        return

    def statement() -> Any:
        where = [table.c[name] == bindparam(f"k_{name}") for name in names]
        return table.delete().where(*where)

    bound = [{f"k_{name}": row[name] for name in names} for row in rows]
    _sqlite_many(conn, ("delete", table.name), statement, bound)


def insert_or_ignore(conn: Connection, table: Table, **values: Any) -> None:
    """Insert a row unless one with its key is there already."""
    done = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    conn.execute(done.values(**values).on_conflict_do_nothing())


def rows_by_keys(
    conn: Connection, table: Table, columns: Sequence[str], keys: Sequence[Key]
) -> dict[Key, Key]:
    """The `columns` of the rows whose primary keys are among `keys`, by key (each in the
    primary key's column order); keys no row holds are left out.

    The keys are joined with the table, one index lookup each: a row-value `IN` list, as
    in `(a, b) IN ((?, ?), ...)`, is not looked up by the index (SQLite scans the whole
    table for it, PostgreSQL every row sharing the first column), so a batch's reads
    would grow with everything folded before it. The statement is written out, not built
    with SQLAlchemy's `values()`, which compiles anew for every list of keys."""
    found: dict[Key, Key] = {}
    if not keys:
        return found
    dialect = conn.dialect
    names = [c.name for c in table.primary_key.columns]
    results = [
        table.c[name].type.dialect_impl(dialect).result_processor(dialect, None) for name in columns
    ]
    read = _postgres_rows_by_keys if dialect.name == "postgresql" else _sqlite_rows_by_keys
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = [dict(zip(names, key, strict=True)) for key in chunk]
        for row in read(conn, table, names, columns, rows):
            found[chunk[row[0]]] = tuple(
                value if process is None else process(value)
                for value, process in zip(row[1:], results, strict=True)
            )
    return found


# PostgreSQL ------------------------------------------------------------------------------


def _unnest(conn: Connection, table: Table, names: Sequence[str]) -> str:
    """`unnest(%b::type[], ...) AS v(name, ...)`: rows from one array per column, each
    sent in binary (`%b`), which the driver writes several times faster than as text."""
    dialect = conn.dialect
    quote, typed = dialect.identifier_preparer.quote, dialect.type_compiler_instance.process
    arrays = ", ".join(f"%b::{typed(table.c[name].type)}[]" for name in names)
    return f"unnest({arrays}) AS v({', '.join(quote(name) for name in names)})"


def _insert_sql(conn: Connection, table: Table, names: Sequence[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    return (
        f"INSERT INTO {quote(table.name)} ({columns}) "  # noqa: S608 - the tables' own names
        f"SELECT {columns} FROM {_unnest(conn, table, names)}"
    )


def _unnested(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row], sql: str
) -> None:
    conn.exec_driver_sql(sql, tuple(_arrays(conn, table, names, rows)))


def _arrays(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]
) -> list[list[Any]]:
    """One list per column of the rows' values, through the column's bind processor."""
    return _arrays_of(conn, table, names, [[row[name] for row in rows] for name in names])


def _arrays_of(
    conn: Connection, table: Table, names: Sequence[str], columns: Sequence[list[Any]]
) -> list[list[Any]]:
    """The columns' values (one list per name), each through its column's bind processor."""
    dialect = conn.dialect
    arrays = []
    for name, values in zip(names, columns, strict=True):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        arrays.append(values if process is None else list(map(process, values)))
    return arrays


def _postgres_rows_by_keys(
    conn: Connection, table: Table, names: Sequence[str], columns: Sequence[str], keys: list[Row]
) -> Any:
    """The keys unnested beside their index; LIMIT 1 (a key names one row) keeps the
    planner from hashing the whole table rather than looking each key up."""
    quote = conn.dialect.identifier_preparer.quote
    matched = " AND ".join(f"t.{quote(name)} = v.{quote(name)}" for name in names)
    selected = ", ".join(f"t.{quote(name)}" for name in columns)
    unnest = _unnest(conn, table, names).replace("unnest(", "unnest(%b::INTEGER[], ", 1)
    unnest = unnest.replace("AS v(", "AS v(i_, ", 1)
    sql = (
        f"SELECT v.i_, found.* FROM {unnest} CROSS JOIN LATERAL "  # noqa: S608
        f"(SELECT {selected} FROM {quote(table.name)} AS t WHERE {matched} LIMIT 1) AS found"
    )
    arrays = _arrays(conn, table, names, keys)
    return conn.exec_driver_sql(sql, (list(range(len(keys))), *arrays))


# SQLite ----------------------------------------------------------------------------------

_COMPILED: dict[tuple[Any, ...], tuple[str, list[str], list[Any]]] = {}


def _sqlite_many(
    conn: Connection, key: tuple[Any, ...], statement: Callable[[], Any], rows: Sequence[Row]
) -> None:
    """Execute a statement once per row, compiled once per process (under `key`)."""
    sql, names, processors = _sqlite_compiled(conn, key, statement)
    _sqlite_execute(conn, sql, processors, [[row[name] for row in rows] for name in names])


def _sqlite_compiled(
    conn: Connection, key: tuple[Any, ...], statement: Callable[[], Any]
) -> tuple[str, list[str], list[Any]]:
    """The statement's SQL, its parameters' names in order and their bind processors."""
    compiled = _COMPILED.get(key)
    if compiled is None:
        dialect = conn.dialect
        done = statement().compile(dialect=dialect)
        names = list(done.positiontup or ())
        processors = [_sqlite_bind(done.binds[name].type, dialect) for name in names]
        compiled = _COMPILED.setdefault(key, (str(done), names, processors))
    return compiled


def _sqlite_execute(
    conn: Connection, sql: str, processors: Sequence[Any], columns: Sequence[list[Any]]
) -> None:
    """Execute the SQL once per row of the columns' values (one list per parameter)."""
    # Column by column: each column's processor is mapped over it in one C loop.
    converted = [
        column if process is None else list(map(process, column))
        for column, process in zip(columns, processors, strict=True)
    ]
    conn.exec_driver_sql(sql, list(zip(*converted, strict=True)))


def _sqlite_bind(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The type's bind processor; for a day, one that writes it out by `isoformat`, the
    same text as SQLAlchemy's (which formats it through a dict, several times slower)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if type(type_) is not Date or process is None:
        return process
    generic = process

    def day(value: Any) -> Any:
        return value.isoformat() if type(value) is date else generic(value)

    return day


def _sqlite_rows_by_keys(
    conn: Connection, table: Table, names: Sequence[str], columns: Sequence[str], keys: list[Row]
) -> Any:
    """The keys as a list of values in a CTE (SQLite names no columns of a list of values
    in a FROM clause); CROSS JOIN keeps the lookups in the order written: each key, then
    the table by its index."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    processors = [_sqlite_bind(table.c[name].type, dialect) for name in names]
    aliases = ", ".join(f"k{n}" for n in range(len(names)))
    row = "(" + ", ".join(["?"] * (len(names) + 1)) + ")"
    matched = " AND ".join(f"t.{quote(name)} = v.k{n}" for n, name in enumerate(names))
    sql = (
        f"WITH v(i_, {aliases}) AS (VALUES {', '.join([row] * len(keys))}) "  # noqa: S608
        f"SELECT v.i_, {', '.join(f't.{quote(name)}' for name in columns)} "
        f"FROM v CROSS JOIN {quote(table.name)} AS t ON {matched}"
    )
    parameters: list[Any] = []
    for index, key in enumerate(keys):
        parameters.append(index)
        for name, process in zip(names, processors, strict=True):
            parameters.append(key[name] if process is None else process(key[name]))
    return conn.exec_driver_sql(sql, tuple(parameters))
