"""State that a pass over the whole log keeps per item of history, in bounded memory.

Verify has to remember a few things about every aggregate, credited service log and
service day it has seen (the last version, what a later reversal takes back, the minutes
already credited for the day), however long the history. `Spill` is a mapping that keeps
its most recent entries in a dict and moves them, once there are `limit` of them, into a
private temporary SQLite database: SQLite deletes it when the mapping is closed or dropped,
and keeps only a small page cache of it in memory.

Keys are ints (within 64 bits), text or bytes; values are JSON values (a tuple moved to
the database comes back as a list).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

Key = int | str | bytes

LIMIT = 50_000  # entries kept in memory before they are moved to the database
_CACHE_KIB = 4096  # the database's page cache
_MISSING: Any = object()


class Spill:
    def __init__(self, limit: int | None = None) -> None:
        self.limit = LIMIT if limit is None else limit
        self._recent: dict[Key, Any] = {}
        self._db: sqlite3.Connection | None = None  # opened on the first move

    def get(self, key: Key, default: Any = None) -> Any:
        value = self._recent.get(key, _MISSING)
        if value is not _MISSING:
            return value
        if self._db is None:
            return default
        row = self._db.execute("SELECT v FROM spill WHERE k = ?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def __setitem__(self, key: Key, value: Any) -> None:
        self._recent[key] = value
        if len(self._recent) >= self.limit:
            self._move()

    def pop(self, key: Key, default: Any = None) -> Any:
        value = self._recent.pop(key, _MISSING)
        if self._db is not None:
            row = self._db.execute("SELECT v FROM spill WHERE k = ?", (key,)).fetchone()
            if row is not None:
                self._db.execute("DELETE FROM spill WHERE k = ?", (key,))
                if value is _MISSING:
                    value = orjson.loads(row[0])
        return default if value is _MISSING else value

    def close(self) -> None:
        self._recent.clear()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _move(self) -> None:
        if self._db is None:
            # An empty name is a private database on disk, deleted when it is closed.
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("CREATE TABLE spill (k PRIMARY KEY, v TEXT) WITHOUT ROWID")
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO spill VALUES (?, ?)",
            # As text: orjson's bytes keep the whole buffer it wrote into, a page each.
            [(key, orjson.dumps(value).decode()) for key, value in self._recent.items()],
        )
        self._db.execute("COMMIT")
        self._recent.clear()
