"""Who may write the views of a store, and whether any process serves them.

Exactly one runner writes a store's views at a time: the writer. Every process that serves
reads from the store holds the serving lock shared; a rebuild of the views takes it alone,
so it never runs under a server that would read half-folded views.

- PostgreSQL: session advisory locks on a connection of their own (released by the server
  when that connection goes, so a killed writer frees the place at once);
- SQLite: `flock` on lock files beside the database file (a killed process's locks go with
  it);
- a store in memory lives in one process: locks of that process.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from contextlib import suppress
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


class StoreLocks(Protocol):
    def try_writer(self) -> bool:
        """Become the writer if nobody is; True if this process is the writer."""

    def release_writer(self) -> None: ...

    def hold_serving(self) -> None:
        """Say this process serves the store (shared with other servers)."""

    def try_alone(self) -> bool:
        """Hold the store alone: no server serves it and no writer writes (for a rebuild)."""

    def release(self) -> None:
        """Let go of every lock this process holds."""

    def reassert_writer(self) -> bool:
        """After the store was out of reach: whether this process still writes the views,
        taking the place again if the locks went with a lost connection."""


def _lock_key(name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresLocks:
    def __init__(self, engine: Engine, schema: str) -> None:
        self._engine = engine
        self._writer_key = _lock_key(f"timebank:{schema}:views-writer")
        self._serving_key = _lock_key(f"timebank:{schema}:serving")
        self._conn: Connection | None = None
        self._pid: object = None  # the server process of the session holding the locks
        self._writer = False
        self._guard = threading.Lock()

    def _session(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._pid = self._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        return self._conn

    def _try(self, function: str, key: int) -> bool:
        try:
            acquired = self._session().execute(text(f"SELECT {function}(:key)"), {"key": key})
        except SQLAlchemyError:
            self._conn = None  # lost (an outage): the next call starts a new session
            raise
        return bool(acquired.scalar())

    def try_writer(self) -> bool:
        with self._guard:
            if not self._writer:
                self._writer = self._try("pg_try_advisory_lock", self._writer_key)
            return self._writer

    def release_writer(self) -> None:
        with self._guard:
            if self._writer:
                self._try("pg_advisory_unlock", self._writer_key)
                self._writer = False

    def hold_serving(self) -> None:
        with self._guard:
            if not self._try("pg_try_advisory_lock_shared", self._serving_key):
                raise RuntimeError("a rebuild of the views holds the store; wait for it to end")

    def try_alone(self) -> bool:
        with self._guard:
            if not self._try("pg_try_advisory_lock", self._serving_key):
                return False
            if self._writer or self._try("pg_try_advisory_lock", self._writer_key):
                self._writer = True
                return True
            self._try("pg_advisory_unlock", self._serving_key)
            return False

    def release(self) -> None:
        with self._guard:
            if self._conn is not None:
                with suppress(SQLAlchemyError):  # a session already lost holds nothing
                    self._conn.close()  # the server lets go of the session's locks
                self._conn = None
            self._writer = False

    def reassert_writer(self) -> bool:
        """A session lost in an outage took its advisory locks with it, and another process
        may have become the writer meanwhile: ask on the session, and if it is gone, start
        a new one, serve again and try for the writer's place."""
        with self._guard:
            held = self._pid
            try:
                # A connection SQLAlchemy replaced after a failure is another session.
                alive = self._session().execute(text("SELECT pg_backend_pid()")).scalar() == held
            except SQLAlchemyError:
                alive = False
            if not alive:
                log.warning("the session holding the views' locks was lost; taking them again")
                self._conn = None
                self._writer = False
        if not alive:
            with suppress(RuntimeError):  # a rebuild took the store meanwhile: not the writer
                self.hold_serving()
        return self.try_writer()


class FileLocks:
    """`flock` on files beside the SQLite database: `<db>.views-writer` and `<db>.serving`."""

    def __init__(self, database: str) -> None:
        self._paths = {"writer": f"{database}.views-writer", "serving": f"{database}.serving"}
        self._files: dict[str, int] = {}
        self._guard = threading.Lock()

    def _flock(self, name: str, mode: int) -> bool:
        descriptor = self._files.get(name)
        if descriptor is None:
            descriptor = os.open(self._paths[name], os.O_RDWR | os.O_CREAT, 0o600)
            self._files[name] = descriptor
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def try_writer(self) -> bool:
        with self._guard:
            return self._flock("writer", fcntl.LOCK_EX)

    def release_writer(self) -> None:
        with self._guard:
            self._close("writer")

    def hold_serving(self) -> None:
        with self._guard:
            if not self._flock("serving", fcntl.LOCK_SH):
                raise RuntimeError("a rebuild of the views holds the store; wait for it to end")

    def try_alone(self) -> bool:
        with self._guard:
            if not self._flock("serving", fcntl.LOCK_EX):
                return False
            if self._flock("writer", fcntl.LOCK_EX):
                return True
            self._close("serving")
            return False

    def release(self) -> None:
        with self._guard:
            for name in list(self._files):
                self._close(name)

    def reassert_writer(self) -> bool:
        return "writer" in self._files  # a file's lock lasts as long as the process

    def _close(self, name: str) -> None:
        descriptor = self._files.pop(name, None)
        if descriptor is not None:
            os.close(descriptor)  # closing the file lets go of its lock


class ProcessLocks:
    """A store in memory: only this process has it."""

    def __init__(self) -> None:
        self._writer = threading.Lock()
        self._held = False

    def try_writer(self) -> bool:
        if not self._held:
            self._held = self._writer.acquire(blocking=False)
        return self._held

    def release_writer(self) -> None:
        if self._held:
            self._writer.release()
            self._held = False

    def hold_serving(self) -> None:
        pass

    def try_alone(self) -> bool:
        return self.try_writer()

    def release(self) -> None:
        self.release_writer()

    def reassert_writer(self) -> bool:
        return self._held
