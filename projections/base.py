"""What every read model shares: the table metadata, column types, sealing and a batch.

Each read model is one module (see `projections.registry`) that declares its tables on
`METADATA` and folds a batch of events into them. The runner hands every model the same
`Batch`: one page of the log, decoded, and one open write transaction in which every
model's rows and the views' position are stored together, exactly once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Cipher, Mapper, Notification
from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    MetaData,
    Table,
    TypeDecorator,
    Uuid,
    bindparam,
)
from sqlalchemy.dialects import postgresql, sqlite

METADATA = MetaData()
"""Every view table, in the database of the events (the views' schema on PostgreSQL)."""

SCHEMA_VERSION = 4
"""The form of the view tables. A process that finds the views stored in another form
folds them again from the log before it serves them (see `ViewStore.open`)."""


class Instant(TypeDecorator[datetime]):
    """An instant, stored in UTC (SQLite keeps no offset), read back aware of UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SEALED = {"sealed": True}
"""A column's `info` when it holds personal text, sealed when the ledger encrypts."""

ID = Uuid(as_uuid=True)
"""Ids of members, teams, logs, ...: native uuid on PostgreSQL, 32 hex characters on SQLite."""


class Sealer:
    """Views hold names and notes too: with the ledger's cipher, personal text is sealed
    (AES-GCM, base64) in the view tables as it is in the events; ids, dates and numbers
    stay readable and queryable. Without a cipher, text is stored as it is."""

    def __init__(self, cipher: Cipher | None, key: bytes | None = None) -> None:
        self.cipher = cipher
        self._key = key  # for keyed digests of sealed text that must still group

    @property
    def sealing(self) -> bool:
        return self.cipher is not None

    def seal(self, text: str | None) -> str | None:
        if text is None or self.cipher is None:
            return text
        return base64.b64encode(self.cipher.encrypt(text.encode("utf-8"))).decode("ascii")

    def open(self, text: str | None) -> str | None:
        if text is None or self.cipher is None:
            return text
        return self.cipher.decrypt(base64.b64decode(text)).decode("utf-8")

    def opened(self, text: str | None) -> str:
        """`open` of a column that is never null."""
        return self.open(text) or ""

    def digest(self, text: str) -> str:
        """A key to group equal texts by (a session's activity): the text itself in the
        clear, a keyed digest of it when text is sealed (equal texts, equal digests; the
        text cannot be read back)."""
        if self._key is None:
            return text
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Logged:
    """One event of a page, with its position in the log and its stored form."""

    position: int
    event: AggregateEvent
    notification: Notification


class Batch:
    """One page of the log being folded into the views, in one write transaction.

    `conn` is the transaction; `sealer` seals personal text; `events` are the page's
    events in log order. Models write their rows through `conn` as they fold, so a
    model folded later in the same batch reads what an earlier one wrote (the rankings
    read the service logs); `created` holds, by table name and key, the rows a model
    created in this batch as it stored them, for a later model to take from there rather
    than read them back."""

    def __init__(
        self, conn: Connection, sealer: Sealer, mapper: Mapper[UUID], events: Sequence[Logged]
    ) -> None:
        self.conn = conn
        self.sealer = sealer
        self.mapper = mapper  # for what must be read from an event as it was stored
        self.events = events
        self.created: dict[str, dict[Any, dict[str, Any]]] = {}
        self._by_class: dict[type[Any], list[Logged]] = {}
        for logged in events:
            self._by_class.setdefault(type(logged.event), []).append(logged)

    def of(self, *kinds: type[Any]) -> list[Logged]:
        """The page's events of these classes, in log order. Every model asks for its own
        few classes of a page that holds many: the page is grouped by class once."""
        found = [events for cls, events in self._by_class.items() if issubclass(cls, kinds)]
        if len(found) == 1:
            return list(found[0])
        return sorted((logged for events in found for logged in events), key=_position)

    def rows_by_keys(
        self, table: Table, columns: Sequence[str], keys: Sequence[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """See `rows_by_keys`: read in this batch's transaction."""
        return rows_by_keys(self.conn, table, columns, keys)

    def upsert(self, table: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str]) -> None:
        """Insert rows, or replace every other column of the rows whose keys exist."""

        def statement() -> Any:
            insert = _insert(self.conn, table)
            updated = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
            if not updated:
                return insert.on_conflict_do_nothing(index_elements=list(keys))
            return insert.on_conflict_do_update(index_elements=list(keys), set_=updated)

        execute_many(self.conn, ("upsert", table.name, tuple(keys)), statement, rows)

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        execute_many(self.conn, ("insert", table.name), table.insert, rows)

    def delete(self, table: Table, keys: Sequence[tuple[Any, ...]]) -> None:
        """Delete the rows of these primary keys (each in the primary key's column order)."""
        names = [c.name for c in table.primary_key.columns]

        def statement() -> Any:
            # Bound names differ from the columns' own: SQLAlchemy reserves those.
            where = [table.c[name] == bindparam(f"k_{name}") for name in names]
            return table.delete().where(*where)

        rows = [{f"k_{name}": part for name, part in zip(names, key, strict=True)} for key in keys]
        execute_many(self.conn, ("delete", table.name), statement, rows)


_COMPILED: dict[tuple[Any, ...], tuple[str, list[str], list[Any]]] = {}


def execute_many(
    conn: Connection,
    key: tuple[Any, ...],
    statement: Callable[[], Any],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Execute a statement once per row, as one `executemany`.

    On SQLite the statement is compiled once per process and each row's values go through
    their columns' own bind processors straight to the driver: SQLAlchemy's per-row
    parameter handling was most of a batch's time (a rebuild at 40k events: 0.18x the
    library's scan-and-decode before, see BENCHMARKS.md). On PostgreSQL SQLAlchemy's own
    executemany sends many rows per statement, which is what counts there."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name != "sqlite":
        conn.execute(statement(), list(rows))
        return
    compiled = _COMPILED.get(key)
    if compiled is None:
        done = statement().compile(dialect=dialect)
        names = list(done.positiontup or ())
        processors = [
            done.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        ]
        compiled = _COMPILED.setdefault(key, (str(done), names, processors))
    sql, names, processors = compiled
    # Column by column: each column's processor is mapped over it in one C loop.
    columns = [[row[name] for row in rows] for name in names]
    converted = [
        column if process is None else list(map(process, column))
        for column, process in zip(columns, processors, strict=True)
    ]
    conn.exec_driver_sql(sql, list(zip(*converted, strict=True)))


def _position(logged: Logged) -> int:
    return logged.position


def rows_by_keys(
    conn: Connection, table: Table, columns: Sequence[str], keys: Sequence[tuple[Any, ...]]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The `columns` of the rows whose primary keys are among `keys`, by key (each in the
    primary key's column order); keys no row holds are left out.

    The keys are a list of values the table is joined with, one index lookup each: a
    row-value `IN` list, as in `(a, b) IN ((?, ?), ...)`, is not looked up by the index
    (SQLite scans the whole table for it, PostgreSQL every row sharing the first column),
    so a batch's reads would grow with everything folded before it. The statement is
    written out, not built with SQLAlchemy's `values()`, which compiles anew for every
    list of keys."""
    found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    if not keys:
        return found
    dialect = conn.dialect
    key = [c.name for c in table.primary_key.columns]
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in key]
    results = [
        table.c[name].type.dialect_impl(dialect).result_processor(dialect, None) for name in columns
    ]
    read = _postgres_rows_by_keys if dialect.name == "postgresql" else _sqlite_rows_by_keys
    for chunk in chunks(keys, 500):
        parts = [
            [part if process is None else process(part) for part in column]
            for column, process in zip(zip(*chunk, strict=True), processors, strict=True)
        ]
        for row in read(conn, table, key, columns, parts):
            found[chunk[row[0]]] = tuple(
                value if process is None else process(value)
                for value, process in zip(row[1:], results, strict=True)
            )
    return found


def _postgres_rows_by_keys(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    columns: Sequence[str],
    parts: list[list[Any]],
) -> Any:
    """The keys as arrays, one per key column (a statement of a few parameters, however
    many keys), unnested beside their index; LIMIT 1 (a key names one row) keeps the
    planner from hashing the whole table rather than looking each key up."""
    dialect = conn.dialect
    quote, typed = dialect.identifier_preparer.quote, dialect.type_compiler_instance.process
    arrays = ", ".join(f"%s::{typed(table.c[name].type)}[]" for name in key)
    names = ", ".join(f"k{n}" for n in range(len(key)))
    matched = " AND ".join(f"t.{quote(name)} = wanted.k{n}" for n, name in enumerate(key))
    sql = (
        f"SELECT wanted.i_, found.* FROM unnest(%s::INTEGER[], {arrays}) "  # noqa: S608
        f"AS wanted(i_, {names}) CROSS JOIN LATERAL "
        f"(SELECT {', '.join(f't.{quote(name)}' for name in columns)} "
        f"FROM {quote(table.name)} AS t WHERE {matched} LIMIT 1) AS found"
    )
    return conn.exec_driver_sql(sql, (list(range(len(parts[0]))), *parts))


def _sqlite_rows_by_keys(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    columns: Sequence[str],
    parts: list[list[Any]],
) -> Any:
    """The keys as a list of values in a CTE (SQLite names no columns of a list of values
    in a FROM clause); CROSS JOIN keeps the lookups in the order written: each key, then
    the table by its index."""
    quote = conn.dialect.identifier_preparer.quote
    count = len(parts[0])
    names = ", ".join(f"k{n}" for n in range(len(key)))
    row = "(" + ", ".join(["?"] * (len(key) + 1)) + ")"
    matched = " AND ".join(f"t.{quote(name)} = wanted.k{n}" for n, name in enumerate(key))
    sql = (
        f"WITH wanted(i_, {names}) AS (VALUES {', '.join([row] * count)}) "  # noqa: S608
        f"SELECT wanted.i_, {', '.join(f't.{quote(name)}' for name in columns)} "
        f"FROM wanted CROSS JOIN {quote(table.name)} AS t ON {matched}"
    )
    parameters = [value for wanted in zip(range(count), *parts, strict=True) for value in wanted]
    return conn.exec_driver_sql(sql, tuple(parameters))


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Projection(Protocol):
    """One read model: its tables (declared on `METADATA` when its module is imported) and
    the fold of a batch of events into them."""

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]

    def fold(self, batch: Batch) -> None:
        """Apply the batch's events this model reads to its tables."""


def chunks(items: Iterable[Any], size: int = 500) -> Iterable[list[Any]]:
    """Items in lists of at most `size` (the parameters of one `IN (...)`)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def uuid_of(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class Entities:
    """The rows of one table that a batch creates and changes, keyed by one column.

    A row created and changed within the batch is written once, as it ends up; rows stored
    by earlier batches get one UPDATE per row (executed many at a time). Events are folded
    in log order, so the last change of a column wins."""

    def __init__(self, table: Table, key: str) -> None:
        self.table = table
        self.key = key
        self.created: dict[Any, dict[str, Any]] = {}
        self.changed: dict[Any, dict[str, Any]] = {}

    def create(self, row: dict[str, Any]) -> None:
        self.created[row[self.key]] = row

    def change(self, ident: Any, **values: Any) -> None:
        target = self.created.get(ident)
        if target is None:
            target = self.changed.setdefault(ident, {})
        target.update(values)

    def flush(self, conn: Connection) -> None:
        if self.created:
            rows = list(self.created.values())
            execute_many(conn, ("insert", self.table.name), self.table.insert, rows)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ident, values in self.changed.items():
            columns = tuple(sorted(values))
            row = {f"v_{name}": value for name, value in values.items()}
            by_columns.setdefault(columns, []).append({"k_": ident, **row})
        for columns, rows in by_columns.items():

            def statement(columns: tuple[str, ...] = columns) -> Any:
                # Bound names differ from the columns' own: SQLAlchemy reserves those.
                return (
                    self.table.update()
                    .where(self.table.c[self.key] == bindparam("k_"))
                    .values({name: bindparam(f"v_{name}") for name in columns})
                )

            execute_many(conn, ("update", self.table.name, columns), statement, rows)
        self.created, self.changed = {}, {}


def insert_or_ignore(conn: Connection, table: Table, **values: Any) -> None:
    """Insert a row unless one with its key is there already."""
    conn.execute(_insert(conn, table).values(**values).on_conflict_do_nothing())
