"""Where projections keep their views: tables beside the events, tracked by the library.

Each batch of view changes is written in one transaction together with the library's
tracking record of the last event it applied, per projection. The library refuses a
tracking record that does not move forward, which rolls the whole batch back: an event is
applied to a stored view exactly once, and a restart resumes after the last committed batch.
"""

# The SQL below is built from fixed table names and a schema name checked against
# _IDENTIFIER; every value goes through placeholders.
# ruff: noqa: S608

from __future__ import annotations

import base64
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    Cipher,
    IntegrityError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import (
    SQLiteDatastore,
    SQLiteTrackingRecorder,
    SQLiteTransaction,
)

from projections.audit import AuditEntry, AuditRow
from projections.balances import StatementLine, StatementRow
from projections.text import id_text
from timebank.application import TimeBank
from timebank.storage import retried_at_startup

log = logging.getLogger(__name__)

_ROWS_PAGE = 5000  # view rows read per query
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_T = TypeVar("_T")


RowKey = tuple[str, UUID | None]
"""A view row's key while a runner folds: its kind and the id it is about, if any. Stored
as text (`row_key_text`) only once a batch is written."""


def row_key_text(key: RowKey) -> str:
    """A row's key as stored: `kind:id`, or the kind alone."""
    kind, ident = key
    return kind if ident is None else f"{kind}:{id_text(ident)}"


@dataclass
class Writes:
    """What one projection changes in one batch, up to and including `position`."""

    position: int = 0
    dirty: set[RowKey] = field(default_factory=set)  # keys of the rows the batch changed
    rows: dict[str, str | None] = field(default_factory=dict)  # key -> JSON, None deletes
    statement: list[StatementRow] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


class Storing(Protocol):
    def wait(self) -> None:
        """Return once the batch is stored, or raise why it is not (nothing of it is)."""


class _Stored:
    """A batch written before `write_behind` returned."""

    def wait(self) -> None:
        pass


STORED = _Stored()


class ViewStore(Protocol):
    def tracked(self, projection: str) -> int:
        """The position of the last event applied to the stored view (0: none)."""

    def read(
        self, projection: str, consume: Callable[[Iterator[tuple[str, str]]], _T]
    ) -> tuple[_T, int]:
        """What `consume` makes of a projection's stored rows (key and JSON, in key order,
        read in pages: a view of a million rows never sits in memory as a whole), and the
        position they stand at: both from one snapshot of the store, however many batches
        other processes' runners store meanwhile."""

    def write(self, batch: dict[str, Writes]) -> None:
        """Store the changes of several projections and their positions, atomically."""

    def write_behind(self, batch: dict[str, Writes]) -> Storing:
        """`write`, except that the commit may still be running when it returns: the
        caller goes on meanwhile and waits on the answer before it writes again."""

    def drop(self, projection: str) -> None:
        """Forget a projection's rows and its position, so that it is rebuilt."""

    def statement(self, member_id: UUID, *, after: int, limit: int) -> list[StatementLine]:
        """A member's statement lines after a position, in log order."""

    def audit(self, *, after: int, limit: int) -> list[AuditEntry]:
        """Audit entries after a position, in log order."""

    def statement_summary(self, *, up_to: int) -> dict[UUID, tuple[int, int]]:
        """Per member: how many statement lines up to a position, and their net minutes."""

    def close(self) -> None: ...


def open_view_store(app: TimeBank) -> ViewStore:
    """The view store beside the application's events, in the same database (creating its
    tables is retried when processes start together)."""
    store: ViewStore = retried_at_startup(_open_view_store)(app)
    return store


def _open_view_store(app: TimeBank) -> ViewStore:
    recorder = app.factory.tracking_recorder()
    sealer = _Sealer(app.mapper.cipher)
    if isinstance(recorder, SQLiteTrackingRecorder):
        return SQLViewStore(
            recorder,
            placeholder="?",
            prefix="",
            tracking_table="tracking",
            sealer=sealer,
            checkpointer=_checkpointer(recorder.datastore),
        )
    if isinstance(recorder, PostgresTrackingRecorder):
        schema = recorder.datastore.schema
        if not _IDENTIFIER.match(schema):
            raise ValueError(f"unusable schema name {schema!r}")
        return SQLViewStore(
            recorder,
            placeholder="%s",
            prefix=f'"{schema}".',
            tracking_table=f'"{schema}"."{recorder.tracking_table_name}"',
            sealer=sealer,
            by_column=True,
        )
    if isinstance(recorder, POPOTrackingRecorder):
        return MemoryViewStore(recorder)
    raise TypeError(f"no view store for {type(recorder).__name__}")


class _Sealer:
    """Views hold names and notes too: with a cipher, their text is encrypted like the
    events' payloads (AES-GCM, base64 in the text columns)."""

    def __init__(self, cipher: Cipher | None) -> None:
        self.cipher = cipher

    def seal(self, text: str) -> str:
        if self.cipher is None:
            return text
        return base64.b64encode(self.cipher.encrypt(text.encode("utf-8"))).decode("ascii")

    def open(self, text: str) -> str:
        if self.cipher is None:
            return text
        return self.cipher.decrypt(base64.b64decode(text)).decode("utf-8")


def _tracking_name(projection: str) -> str:
    return f"timebank.{projection}"


class SQLViewStore:
    """Views in three tables of the event database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        recorder: SQLiteTrackingRecorder | PostgresTrackingRecorder,
        *,
        placeholder: str,
        prefix: str,
        tracking_table: str,
        sealer: _Sealer,
        by_column: bool = False,
        checkpointer: WalCheckpointer | None = None,
    ) -> None:
        self.recorder = recorder
        self.checkpointer = checkpointer
        self.by_column = by_column
        self.sealer = sealer
        self.datastore = recorder.datastore
        p = placeholder
        rows, statement, audit = (
            f"{prefix}timebank_view_rows",
            f"{prefix}timebank_statement_lines",
            f"{prefix}timebank_audit_trail",
        )
        self._create = [
            f"CREATE TABLE IF NOT EXISTS {rows} (projection TEXT NOT NULL, key TEXT NOT NULL, "
            "value TEXT NOT NULL, PRIMARY KEY (projection, key))",
            f"CREATE TABLE IF NOT EXISTS {statement} (member_id TEXT NOT NULL, "
            "position BIGINT NOT NULL, recorded_at TEXT NOT NULL, kind TEXT NOT NULL, "
            "reference_id TEXT NOT NULL, counterparty TEXT NOT NULL, minutes BIGINT NOT NULL, "
            "balance_minutes BIGINT NOT NULL, PRIMARY KEY (member_id, position))",
            f"CREATE TABLE IF NOT EXISTS {audit} (position BIGINT PRIMARY KEY, "
            "topic TEXT NOT NULL, aggregate_id TEXT NOT NULL, aggregate_version BIGINT NOT NULL, "
            "actor_id TEXT, recorded_at TEXT, data TEXT NOT NULL, hash TEXT NOT NULL)",
        ]
        self._upsert = (
            f"INSERT INTO {rows} (projection, key, value) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT (projection, key) DO UPDATE SET value = excluded.value"
        )
        self._delete = f"DELETE FROM {rows} WHERE projection = {p} AND key = {p}"
        self._select_rows = (
            f"SELECT key, value FROM {rows} WHERE projection = {p} AND key > {p} "
            f"ORDER BY key LIMIT {p}"
        )
        self._insert_line = f"INSERT INTO {statement} VALUES ({', '.join([p] * 8)})"
        self._insert_audit = f"INSERT INTO {audit} VALUES ({', '.join([p] * 8)})"
        if by_column:
            # PostgreSQL runs an executemany as one statement per row; a batch passed as
            # one array per column is one statement, whatever its size. The arrays go in
            # psycopg's binary format (`%b`): its text format escapes every element in
            # Python, which cost more than the statements it saved.
            def unnest(*types: str) -> str:
                return f"SELECT * FROM unnest({', '.join(f'%b::{t}[]' for t in types)})"

            self._upsert = (
                f"INSERT INTO {rows} (projection, key, value) {unnest('text', 'text', 'text')} "
                "ON CONFLICT (projection, key) DO UPDATE SET value = excluded.value"
            )
            self._delete = f"DELETE FROM {rows} WHERE projection = {p} AND key = ANY(%b::text[])"
            self._insert_line = f"INSERT INTO {statement} " + unnest(
                "text", "bigint", "text", "text", "text", "text", "bigint", "bigint"
            )
            self._insert_audit = f"INSERT INTO {audit} " + unnest(
                "bigint", "text", "text", "bigint", "text", "text", "text", "text"
            )
        self._select_lines = (
            f"SELECT * FROM {statement} WHERE member_id = {p} AND position > {p} "
            f"ORDER BY position LIMIT {p}"
        )
        self._select_audit = (
            f"SELECT * FROM {audit} WHERE position > {p} ORDER BY position LIMIT {p}"
        )
        self._summary = (
            f"SELECT member_id, COUNT(*) AS lines, SUM(minutes) AS net FROM {statement} "
            f"WHERE position <= {p} GROUP BY member_id"
        )
        self._drop = {
            "rows": f"DELETE FROM {rows} WHERE projection = {p}",
            "statement": f"DELETE FROM {statement}",
            "audit": f"DELETE FROM {audit}",
            "tracking": f"DELETE FROM {tracking_table} WHERE application_name = {p}",
        }
        with self.datastore.transaction(commit=True) as cursor:
            for statement_sql in self._create:
                cursor.execute(statement_sql)

    def tracked(self, projection: str) -> int:
        return self.recorder.max_tracking_id(_tracking_name(projection)) or 0

    def read(
        self, projection: str, consume: Callable[[Iterator[tuple[str, str]]], _T]
    ) -> tuple[_T, int]:
        """One read-only transaction: SQLite's holds one snapshot from its first read on,
        PostgreSQL's does at REPEATABLE READ. (Reading the rows a page per transaction,
        then the position, met a batch stored in between each time the view took longer
        to read than another process took to store one: under steady writes a reload
        never ended.)"""
        with self.datastore.transaction(commit=False) as cursor:
            if self.by_column:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            max_tracking_id: Any = self.recorder._max_tracking_id
            position = max_tracking_id(_tracking_name(projection), cursor) or 0
            return consume(self._rows(cursor, projection)), position

    def _rows(self, cursor: Any, projection: str) -> Iterator[tuple[str, str]]:
        after = ""
        while True:
            cursor.execute(self._select_rows, (projection, after, _ROWS_PAGE))
            page = cursor.fetchall()
            for row in page:
                yield row["key"], self.sealer.open(row["value"])
            if len(page) < _ROWS_PAGE:
                return
            after = page[-1]["key"]

    def write(self, batch: dict[str, Writes]) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._write(cursor, batch)
        if self.checkpointer is not None and batch:
            self.checkpointer.stored(max(writes.position for writes in batch.values()))

    def write_behind(self, batch: dict[str, Writes]) -> Storing:
        """The runner folds its next page meanwhile.

        On SQLite the rows are written here, and only the commit (most of a batch's time
        in the database at a million events) runs on a thread of its own: SQLite lets go
        of the GIL for the whole commit, but for each row of an insert only briefly, so a
        thread inserting rows would hand the GIL back and forth at every one. On
        PostgreSQL the whole write does: a few statements, each a wait on the server."""
        if not batch:  # a page without an aggregate's event changes no view
            return STORED
        if not isinstance(self.datastore, SQLiteDatastore):
            return _InThread(lambda: self.write(batch))
        pool = self.datastore.pool
        connection = pool.get_connection(is_writer=True)
        try:
            transaction = SQLiteTransaction(connection, commit=True)
            cursor = transaction.__enter__()
        except BaseException:
            pool.put_connection(connection)
            raise
        try:
            self._write(cursor, batch)
        except BaseException as error:
            try:  # rolls back, and raises the error as the library's own
                transaction.__exit__(type(error), error, error.__traceback__)
            finally:
                cursor.__exit__()
                pool.put_connection(connection)
            raise  # (`__exit__` has raised already; this only makes it plain)
        position = max(writes.position for writes in batch.values())

        def commit() -> None:
            try:
                transaction.__exit__(None, None, None)
            finally:
                cursor.__exit__()
                pool.put_connection(connection)
            if self.checkpointer is not None:
                self.checkpointer.stored(position)

        return _InThread(commit)

    def _write(self, cursor: Any, batch: dict[str, Writes]) -> None:
        for projection, writes in batch.items():
            # In key order: two processes' runners writing the same rows at once lock them
            # in the same order, so one waits for the other rather than each for the other
            # (in any order, they deadlocked now and then on PostgreSQL).
            rows = sorted(writes.rows.items())
            upserts = [(projection, k, self.sealer.seal(v)) for k, v in rows if v is not None]
            deletes = [(projection, k) for k, v in rows if v is None]
            if upserts:
                self._insert(cursor, self._upsert, upserts)
            if deletes and self.by_column:
                cursor.execute(self._delete, (projection, [k for _, k in deletes]))
            elif deletes:
                cursor.executemany(self._delete, deletes)
            if writes.statement:
                self._insert(cursor, self._insert_line, [_line_row(x) for x in writes.statement])
            if writes.audit:
                self._insert(
                    cursor,
                    self._insert_audit,
                    [_sealed(row, self.sealer) for row in writes.audit],
                )
            tracking = Tracking(_tracking_name(projection), writes.position)
            # The library's own insert, inside our transaction: it refuses a position
            # that does not move forward, which rolls the whole batch back.
            insert_tracking: Any = self.recorder._insert_tracking
            insert_tracking(cursor, tracking)

    def _insert(self, cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.by_column:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        else:
            cursor.executemany(sql, rows)

    def drop(self, projection: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._drop["rows"], (projection,))
            if projection == "balances":
                cursor.execute(self._drop["statement"])
            if projection == "audit":
                cursor.execute(self._drop["audit"])
            cursor.execute(self._drop["tracking"], (_tracking_name(projection),))

    def statement(self, member_id: UUID, *, after: int, limit: int) -> list[StatementLine]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._select_lines, (str(member_id), after, limit))
            rows = cursor.fetchall()
        return [
            StatementLine(
                member_id=UUID(r["member_id"]),
                position=r["position"],
                recorded_at=r["recorded_at"],
                kind=r["kind"],
                reference_id=UUID(r["reference_id"]),
                counterparty=r["counterparty"],
                minutes=r["minutes"],
                balance_minutes=r["balance_minutes"],
            )
            for r in rows
        ]

    def audit(self, *, after: int, limit: int) -> list[AuditEntry]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._select_audit, (after, limit))
            rows = cursor.fetchall()
        open_data = self.sealer.open
        return [
            AuditEntry(
                r["position"],
                r["topic"],
                r["aggregate_id"],
                r["aggregate_version"],
                r["actor_id"],
                r["recorded_at"],
                open_data(r["data"]),
                r["hash"],
            )
            for r in rows
        ]

    def statement_summary(self, *, up_to: int) -> dict[UUID, tuple[int, int]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._summary, (up_to,))
            rows = cursor.fetchall()
        return {UUID(r["member_id"]): (int(r["lines"]), int(r["net"])) for r in rows}

    def close(self) -> None:
        """The tables share the application's connections; it closes them."""


class _InThread:
    """Work running on a thread of its own: `wait` joins it, and raises what it raised."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(work,), name="views-write", daemon=True
        )
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # handed to whoever waits
            self._error = error

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


class WalCheckpointer:
    """Copies SQLite's write-ahead log back into the database file in a thread of its own,
    once every `every` events the views store.

    Otherwise whichever commit finds the log past 1000 pages does it, on its own thread:
    the runner's, between two batches, or a command's, in the middle of a request. Done
    here it overlaps the runner's next batch (SQLite lets go of the GIL while it copies),
    and the log stays short enough that commands seldom meet a checkpoint of their own
    (a catch-up at a million events: 0.25 -> 0.28x scan). A passive checkpoint waits for
    no reader or writer; one still running when the next is due lets that one go.
    """

    def __init__(self, database: str, *, every: int = 1000) -> None:
        self.database = database  # as the library opens it: a file name or a URI
        self.every = every
        self.checkpoints = 0  # how many ran to the end
        self._running = threading.Lock()  # held by the checkpoint running, if any
        # A connection of its own, used by one checkpoint at a time: the application may
        # close its pool while a checkpoint runs. Closed when the checkpointer goes.
        self._connection: sqlite3.Connection | None = None
        self._due_after = 0  # the position past which the next one is due

    def stored(self, position: int) -> None:
        """The views stored a batch up to `position`: checkpoint if one is due."""
        if position < self._due_after or not self._running.acquire(blocking=False):
            return
        self._due_after = position + self.every
        threading.Thread(target=self._checkpoint, name="wal-checkpoint", daemon=True).start()

    def _checkpoint(self) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    self.database, uri=True, check_same_thread=False, isolation_level=None
                )
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except Exception:  # the next commit past 1000 pages checkpoints anyway
            log.warning("write-ahead log checkpoint failed", exc_info=True)
        finally:
            self._running.release()


def _checkpointer(datastore: SQLiteDatastore) -> WalCheckpointer | None:
    pool = datastore.pool
    return None if pool.is_sqlite_memory_mode else WalCheckpointer(pool.db_name)


class MemoryViewStore:
    """Views of an in-memory ledger: kept in memory too, with the same guarantees."""

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.recorder = recorder
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, str]] = {}
        self._lines: dict[UUID, list[StatementLine]] = {}
        self._audit: list[AuditEntry] = []
        self._positions: dict[str, int] = {}

    def tracked(self, projection: str) -> int:
        with self._lock:
            return self._positions.get(projection, 0)

    def read(
        self, projection: str, consume: Callable[[Iterator[tuple[str, str]]], _T]
    ) -> tuple[_T, int]:
        with self._lock:
            rows = sorted(self._rows.get(projection, {}).items())
            position = self._positions.get(projection, 0)
        return consume(iter(rows)), position

    def write_behind(self, batch: dict[str, Writes]) -> Storing:
        self.write(batch)
        return STORED

    def write(self, batch: dict[str, Writes]) -> None:
        with self._lock:
            for projection, writes in batch.items():
                stored = self._positions.get(projection, 0)
                firsts = [writes.statement[0][1]] if writes.statement else []
                firsts += [writes.audit[0][0]] if writes.audit else []
                if writes.position <= stored or any(first <= stored for first in firsts):
                    # as a database's keys would: a position's lines are stored once
                    raise IntegrityError(f"{projection} is already past {writes.position}")
            for projection, writes in batch.items():
                rows = self._rows.setdefault(projection, {})
                for key, value in writes.rows.items():
                    if value is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = value
                for row in writes.statement:
                    line = StatementLine(*row)
                    self._lines.setdefault(line.member_id, []).append(line)
                self._audit.extend(AuditEntry(*row) for row in writes.audit)
                self._positions[projection] = writes.position

    def drop(self, projection: str) -> None:
        with self._lock:
            self._rows.pop(projection, None)
            self._positions.pop(projection, None)
            if projection == "balances":
                self._lines.clear()
            if projection == "audit":
                self._audit.clear()

    def statement(self, member_id: UUID, *, after: int, limit: int) -> list[StatementLine]:
        with self._lock:
            lines = [x for x in self._lines.get(member_id, []) if x.position > after]
        return lines[:limit]

    def audit(self, *, after: int, limit: int) -> list[AuditEntry]:
        with self._lock:
            entries = [x for x in self._audit if x.position > after]
        return entries[:limit]

    def statement_summary(self, *, up_to: int) -> dict[UUID, tuple[int, int]]:
        with self._lock:
            return {
                member: (len(chosen), sum(x.minutes for x in chosen))
                for member, lines in self._lines.items()
                if (chosen := [x for x in lines if x.position <= up_to])
            }

    def close(self) -> None:
        pass


def _line_row(row: StatementRow) -> Sequence[Any]:
    member_id, position, recorded_at, kind, reference_id, counterparty, minutes, balance = row
    return (
        id_text(member_id),
        position,
        recorded_at,
        kind,
        id_text(reference_id),
        counterparty,
        minutes,
        balance,
    )


def _sealed(row: AuditRow, sealer: _Sealer) -> AuditRow:
    """An audit row as stored: its data sealed (encrypted) when the ledger has a key."""
    if sealer.cipher is None:
        return row
    position, topic, aggregate_id, version, actor_id, recorded_at, data_json, link = row
    return (
        position,
        topic,
        aggregate_id,
        version,
        actor_id,
        recorded_at,
        sealer.seal(data_json),
        link,
    )
