"""Where the views live: typed tables in the database of the events, and their positions.

The views of a SQLite ledger are tables in its file; those of a PostgreSQL ledger, tables
in its schema; those of a ledger in memory, a temporary SQLite file that goes with it.
SQLAlchemy Core writes one set of table definitions for both dialects.

`view_positions` holds how far in the log the views (and, apart, the audit trail) stand,
and the form they were written in. A batch moves a position only from where it was read
(compare and set, in the batch's own transaction): a batch is stored once or not at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Cipher
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, InternalError, ProgrammingError
from sqlalchemy.sql import column
from sqlalchemy.sql import table as named_table

from projections import registry
from projections.audit import audit_trail
from projections.base import ID, METADATA, SCHEMA_VERSION, Sealer
from projections.locks import FileLocks, PostgresLocks, ProcessLocks, StoreLocks
from timebank.application import TimeBank

log = logging.getLogger(__name__)

view_positions = Table(
    "view_positions",
    METADATA,
    Column("name", String(20), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("schema_version", Integer, nullable=False),
)

caller_positions = Table(
    "view_caller_positions",
    METADATA,
    Column("caller", ID, primary_key=True),
    Column("position", BigInteger, nullable=False),
)
"""Where each caller's last write landed in the log, whichever process served it: a read
the caller then makes on any process waits for the views to get there. Not a view of the
events (a rebuild or verify leaves it alone)."""

_LEAST_POSITION = select(func.min(view_positions.c.position))


def _note_caller(insert: Any, greatest: Any) -> Any:
    """Insert a caller's position, or move it on (never back) if the caller has one."""
    noted = insert(caller_positions).values(
        caller=bindparam("caller", type_=ID), position=bindparam("position")
    )
    moved = greatest(noted.excluded.position, caller_positions.c.position)
    return noted.on_conflict_do_update(index_elements=["caller"], set_={"position": moved})


_NOTE_CALLER = {
    "sqlite": _note_caller(sqlite.insert, func.max),
    "postgresql": _note_caller(postgresql.insert, func.greatest),
}

VIEWS, AUDIT = "views", "audit"
_EARLIER_AUDIT_TRAIL = "timebank_audit_trail"


class StalePositionError(RuntimeError):
    """Another writer moved the views' position since this batch read it."""


class ViewStore:
    """The view tables of one ledger, a pool of connections to read them, and one to write."""

    def __init__(
        self,
        engine: Engine,
        writer: Engine,
        sealer: Sealer,
        locks: StoreLocks,
        *,
        temporary: str | None = None,
        checkpointer: Checkpointer | None = None,
        log_table: str | None = None,
    ) -> None:
        self.engine = engine
        self._writer = writer
        self.sealer = sealer
        self.locks = locks
        self._temporary = temporary  # a file to remove on close (a ledger in memory)
        self._checkpointer = checkpointer  # SQLite: see `Checkpointer`
        self.dialect = engine.dialect.name
        # The end of the library's table of the ledger's events, where it is beside the
        # views, read as the library's `max_notification_id` reads it.
        numbered_by = "rowid" if self.dialect == "sqlite" else "notification_id"
        self._heads = (
            None
            if log_table is None
            else select(
                select(func.max(column(numbered_by)))
                .select_from(named_table(log_table))
                .scalar_subquery(),
                _LEAST_POSITION.scalar_subquery(),
            )
        )

    # Opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, app: TimeBank, *, pool_size: int = 20) -> ViewStore:
        """The views beside the application's events (see the module's docstring)."""
        env: Mapping[str, str] = app.env
        module = env.get("PERSISTENCE_MODULE", "")
        sealer = _sealer(app.mapper.cipher, env.get("CIPHER_KEY"))
        if module.endswith("postgres"):
            schema = env.get("POSTGRES_SCHEMA") or "public"
            url = URL.create(
                "postgresql+psycopg",
                username=env.get("POSTGRES_USER"),
                password=env.get("POSTGRES_PASSWORD") or None,
                host=env.get("POSTGRES_HOST"),
                port=int(env.get("POSTGRES_PORT") or 5432),
                database=env.get("POSTGRES_DBNAME"),
            )
            # As the ledger's own connections (timebank.storage): a bounded wait while the
            # server cannot be reached, and connections an outage broke replaced on use.
            timeout = int(env.get("POSTGRES_CONNECT_TIMEOUT") or 5)
            args = {"options": f"-c search_path={schema}", "connect_timeout": timeout}
            pooling: dict[str, Any] = {"pool_timeout": timeout, "pool_pre_ping": True}
            engine = create_engine(
                url, connect_args=args, pool_size=pool_size, max_overflow=pool_size, **pooling
            )
            writer = create_engine(url, connect_args=args, pool_size=2, max_overflow=2, **pooling)
            return cls(
                engine, writer, sealer, PostgresLocks(engine, schema), log_table=_log_table(app)
            )
        temporary, log_table = None, None
        if module.endswith("sqlite"):
            database = env.get("SQLITE_DBNAME", "")
            if database.startswith("file:") or ":memory:" in database:
                raise ValueError("the views of an in-memory SQLite ledger: use memory://")
            locks: StoreLocks = FileLocks(database)
            log_table = _log_table(app)
        else:  # a ledger in memory: views in a temporary file that goes with the process
            handle, database = tempfile.mkstemp(prefix="timebank-views-", suffix=".db")
            os.close(handle)
            temporary = database
            locks = ProcessLocks()
        engine = _sqlite_engine(database, pool_size=pool_size, begin="BEGIN")
        writer = _sqlite_engine(database, pool_size=1, begin="BEGIN IMMEDIATE", writer=True)
        return cls(
            engine,
            writer,
            sealer,
            locks,
            temporary=temporary,
            checkpointer=Checkpointer(database),
            log_table=log_table,
        )

    def prepare(self) -> bool:
        """Create the tables that are missing; if the views were written in another form,
        drop them and start them again from nothing. True when the views must be folded
        from the log (they are behind it by everything).

        Several processes starting together on an empty database race to create the same
        tables (PostgreSQL: duplicate keys in its catalogue, "already exists"): the losers
        wait a moment and try again, by which time the tables are there."""
        for attempt in range(10):
            try:
                return self._prepare()
            except (IntegrityError, ProgrammingError, InternalError):
                if attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepare(self) -> bool:
        with self.write() as conn:
            METADATA.create_all(conn, checkfirst=True)
            rows = {row.name: row for row in conn.execute(select(view_positions))}
            for name in (VIEWS, AUDIT):
                if name not in rows:
                    conn.execute(
                        view_positions.insert().values(
                            name=name, position=0, schema_version=SCHEMA_VERSION
                        )
                    )
            if AUDIT not in rows:
                self._adopt_earlier_audit_trail(conn)
            stale = VIEWS in rows and rows[VIEWS].schema_version != SCHEMA_VERSION
            if stale:
                log.warning(
                    "the views were stored in form %s, this version writes form %s: "
                    "folding them again from the log",
                    rows[VIEWS].schema_version,
                    SCHEMA_VERSION,
                )
                # Dropped, not only emptied: a table that exists keeps its older columns and
                # indexes through create_all.
                views = [table for projection in registry.VIEWS for table in projection.tables]
                METADATA.drop_all(conn, tables=views)
                METADATA.create_all(conn, tables=views)
                self.reset_views(conn)
            return stale

    def _adopt_earlier_audit_trail(self, conn: Connection) -> None:
        """A ledger whose audit trail an earlier version kept (`timebank_audit_trail`,
        beside views stored as JSON) keeps that trail: it is the evidence verify holds the
        events against, and chaining the events again as they stand now would launder
        any change made to them before the upgrade. The earlier views are folded anew."""
        if not inspect(conn).has_table(_EARLIER_AUDIT_TRAIL):
            return
        columns = ", ".join(c.name for c in audit_trail.columns)
        conn.exec_driver_sql(
            f"INSERT INTO {audit_trail.name} ({columns}) "  # noqa: S608 - fixed names
            f"SELECT {columns} FROM {_EARLIER_AUDIT_TRAIL}"
        )
        reached = conn.execute(select(func.max(audit_trail.c.position))).scalar() or 0
        conn.execute(
            view_positions.update().where(view_positions.c.name == AUDIT).values(position=reached)
        )
        log.warning("kept the audit trail of an earlier version, up to position %s", reached)

    def reset_views(self, conn: Connection) -> None:
        """Empty every view (not the audit trail) and set its position back to the start."""
        for projection in registry.VIEWS:
            for table in projection.tables:
                conn.execute(table.delete())
        conn.execute(
            view_positions.update()
            .where(view_positions.c.name == VIEWS)
            .values(position=0, schema_version=SCHEMA_VERSION)
        )

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.locks.release()
        self.engine.dispose()
        self._writer.dispose()
        if self._temporary is not None:
            for suffix in ("", "-wal", "-shm"):
                with suppress(FileNotFoundError):
                    os.remove(self._temporary + suffix)

    # Transactions ----------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that sees one snapshot of the views from its first read
        (SQLite's deferred transaction in WAL mode; REPEATABLE READ on PostgreSQL)."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The writer's transaction (SQLite: BEGIN IMMEDIATE, so it never has to upgrade)."""
        with self._writer.begin() as conn:
            yield conn
        if self._checkpointer is not None:
            self._checkpointer.due()

    # Positions -------------------------------------------------------------------------

    def positions(self, conn: Connection | None = None) -> dict[str, int]:
        """How far the views and the audit trail stand in the log."""
        if conn is None:
            with self.read() as reading:
                return self.positions(reading)
        return {row.name: row.position for row in conn.execute(select(view_positions))}

    def heads(self) -> tuple[int | None, int]:
        """Where the log ends (None where the events are not beside the views) and the
        position every view has reached, in one statement: the API's store question."""
        if self._heads is None:
            return None, self.position()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            log, views = conn.execute(self._heads).one()
            return int(log or 0), int(views or 0)

    def position(self) -> int:
        """The log position every view and the audit trail have reached. One statement
        outside any transaction (it sees one snapshot by itself): every API request's store
        question asks it, and a transaction around it cost PostgreSQL two round trips more."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return int(conn.execute(_LEAST_POSITION).scalar() or 0)

    def move(self, conn: Connection, name: str, before: int, after: int) -> None:
        """Move a position on in the batch's transaction, from where the batch read it."""
        moved = conn.execute(
            view_positions.update()
            .where(view_positions.c.name == name, view_positions.c.position == before)
            .values(position=after)
        )
        if moved.rowcount != 1:
            raise StalePositionError(f"the {name} position moved from {before} meanwhile")

    def note_caller(self, caller: UUID, position: int) -> None:
        """A caller's write landed at `position` (see `caller_positions`). Every command
        the API serves notes one: the statement is built once, not at each call."""
        with self.engine.begin() as conn:
            conn.execute(_NOTE_CALLER[self.dialect], {"caller": caller, "position": position})

    def has_table(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return inspect(conn).has_table(name)


def _log_table(app: TimeBank) -> str | None:
    """The name of the library's table of the application's events, if it has one."""
    name = getattr(app.recorder, "events_table_name", None)
    return name if isinstance(name, str) else None


def _sealer(cipher: Cipher | None, key: str | None) -> Sealer:
    """Text is sealed with the ledger's own cipher; sessions group by a digest keyed with a
    key derived from the ledger's key (never the key itself)."""
    if cipher is None or not key:
        return Sealer(None)
    derived = hashlib.sha256(b"timebank:view-digests:" + key.encode("ascii")).digest()
    return Sealer(cipher, derived)


WRITER_CACHE_KIB = 16_384
"""The page cache of the views' writer on SQLite (readers keep SQLite's default)."""


class Checkpointer:
    """Copies what the views' writer committed to a SQLite file's write-ahead log into the
    file itself, in a thread of its own, once each batch is stored.

    SQLite does it otherwise in the commit that finds the log long enough: that batch's
    commit would copy and sync the pages of its batch and of the ones before it, in the
    writer's own time, a cost that grows with the views (the larger the tables, the more
    of their pages a batch's rows touch). Copying takes no lock the writer or readers
    wait for; a copy that cannot finish (a reader still needs older pages) is tried again
    after the next batch, and the ledger's own commits still copy a long log, as before."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._due = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def due(self) -> None:
        """A batch was committed: copy the log into the file soon."""
        with self._starting:
            if self._closing:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="views-checkpoint", daemon=True
                )
                self._thread.start()
        self._due.set()

    def close(self) -> None:
        with self._starting:
            self._closing = True
            thread = self._thread
        self._due.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._closing:
                    return
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # tried again after the next batch
                    log.debug("checkpoint of the views failed: %s", error)
        finally:
            connection.close()


def _sqlite_engine(
    database: str,
    *,
    pool_size: int,
    begin: str,
    durable: bool = True,
    writer: bool = False,
) -> Engine:
    """An engine on a SQLite file whose transactions begin as asked: pysqlite's own
    transaction handling begins only before a write, so reads would see no snapshot.
    Not `durable`: a scratch file nobody reads after a crash, written without a journal.
    The views' `writer` has a larger page cache, and its commits on a durable file leave
    the write-ahead log to a `Checkpointer`."""
    engine = create_engine(
        URL.create("sqlite", database=database),
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=pool_size,
    )

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        if durable:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
            if writer:
                dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
        else:
            dbapi_connection.execute("PRAGMA journal_mode=OFF")
            dbapi_connection.execute("PRAGMA synchronous=OFF")
        if writer:
            # A batch touches pages all over the views' indexes (rows keyed by ids):
            # SQLite's default cache of 2 MiB would read most of them in again.
            dbapi_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")

    @event.listens_for(engine, "begin")
    def _begun(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def scratch_store(sealer: Sealer) -> ViewStore:
    """Empty views in a temporary SQLite file of their own (removed on close), sealed as
    `sealer` seals: where verify folds the log afresh to compare with the stored views."""
    handle, database = tempfile.mkstemp(prefix="timebank-verify-", suffix=".db")
    os.close(handle)
    engine = _sqlite_engine(database, pool_size=2, begin="BEGIN", durable=False)
    writer = _sqlite_engine(
        database, pool_size=1, begin="BEGIN IMMEDIATE", durable=False, writer=True
    )
    return ViewStore(engine, writer, sealer, ProcessLocks(), temporary=database)
