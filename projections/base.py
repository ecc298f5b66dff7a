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
)

from projections import writes

METADATA = MetaData()
"""Every view table, in the database of the events (the views' schema on PostgreSQL)."""

SCHEMA_VERSION = 5
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

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, `process_bind_param` and SQLite's own text of an instant in one step:
        views store an instant for nearly every row they write."""
        if dialect.name == "sqlite":
            return _sqlite_instant
        return super().bind_processor(dialect)


def _sqlite_instant(value: datetime | None) -> str | None:
    """What SQLAlchemy's SQLite dialect stores for the UTC instant, written by `isoformat`
    (the same text: year, month and day, hours to seconds, six digits of microseconds)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


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
        """See `writes.rows_by_keys`: read in this batch's transaction."""
        return writes.rows_by_keys(self.conn, table, columns, keys)

    def upsert(self, table: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str]) -> None:
        """Insert rows, or replace every other column of the rows whose keys exist."""
        writes.upsert(self.conn, table, rows, keys)

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        writes.insert(self.conn, table, rows)

    def insert_tuples(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows given as tuples of every column's value, in the table's order."""
        writes.insert_tuples(self.conn, table, rows)

    def delete(self, table: Table, keys: Sequence[tuple[Any, ...]]) -> None:
        """Delete the rows of these primary keys (each in the primary key's column order)."""
        writes.delete(self.conn, table, keys)


def _position(logged: Logged) -> int:
    return logged.position


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
        writes.insert(conn, self.table, list(self.created.values()))
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ident, values in self.changed.items():
            by_columns.setdefault(tuple(sorted(values)), []).append({self.key: ident, **values})
        for columns, rows in by_columns.items():
            writes.update(conn, self.table, self.key, columns, rows)
        self.created, self.changed = {}, {}
