"""Every stored view, compared row by row with the log folded afresh, in bounded memory.

The stored views are read in one snapshot, at the position they stand at; verify feeds the
events it reads anyway (each decoded once) into empty views in a temporary file, up to that
very position, with the same read models and the same fold the runner uses; then each table
of both is read in key order and compared row against row, a page at a time. Sealed text is
compared opened, since every sealing draws a new nonce.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Row, String, Table, select
from sqlalchemy import column as sql_column

from projections import registry
from projections.base import Logged, Sealer
from projections.runner import VIEWS_ONLY, fold_page
from projections.store import VIEWS, ViewStore, scratch_store
from timebank.application import TimeBank

__all__ = ["Mismatch", "ViewComparison", "fold_page"]

MISMATCHES_NAMED = 5  # per table: the first rows that differ are named, then a count
PAGE = 8000
"""Events folded into the scratch views per transaction: as for the runner's pages, what a
page reads and writes back (tallies, accounts) is shared among more events. The page's
events are held until it is folded: a few MiB per thousand."""


@dataclass(frozen=True)
class Mismatch:
    """A view table that differs from the log folded afresh."""

    position: int
    table: str
    detail: str


class ViewComparison:
    """Open it before reading the log, feed it every event read, then `finish`."""

    def __init__(self, app: TimeBank, store: ViewStore) -> None:
        self.app = app
        self.store = store
        self._exits = ExitStack()
        self._pending: list[Logged] = []
        self._folded = 0
        self._unreadable: str | None = None
        self.position = 0
        self._live: Connection | None = None
        self._scratch: ViewStore | None = None

    def __enter__(self) -> ViewComparison:
        self._live = self._exits.enter_context(self.store.read())
        self.position = self.store.positions(self._live)[VIEWS]
        self._scratch = scratch_store(self.store.sealer)
        self._exits.callback(self._scratch.close)
        self._scratch.prepare()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._exits.close()

    def feed(self, logged: Logged) -> None:
        """An event read from the log, in log order (those past the views' position are
        not theirs yet, and are left out)."""
        if logged.position <= self.position:
            self._pending.append(logged)
            if len(self._pending) >= PAGE:
                self._fold()

    def unreadable(self, position: int, why: str) -> None:
        """An event at this position cannot be read: the views cannot be folded afresh."""
        if position <= self.position and self._unreadable is None:
            self._unreadable = f"event {position} cannot be read ({why})"

    def finish(self) -> list[Mismatch]:
        if self._unreadable is not None:
            why = f"not compared: the log cannot be folded afresh, {self._unreadable}"
            return [Mismatch(self.position, "every view", why)]
        self._fold()
        if self._folded < self.position:  # events the log no longer holds: reported apart
            self._close_gap()
        if self._live is None or self._scratch is None:
            raise RuntimeError("the comparison was not opened")
        mismatches: list[Mismatch] = []
        with self._scratch.read() as fresh:
            for projection in registry.VIEWS:
                for table in projection.tables:
                    detail = _compare(table, self._live, fresh, self.store.sealer)
                    if detail is not None:
                        mismatches.append(Mismatch(self.position, table.name, detail))
        return mismatches

    def _fold(self) -> None:
        if not self._pending or self._scratch is None:
            return
        last = self._pending[-1].position
        positions = self._scratch.positions()
        fold_page(
            self._scratch,
            self.app.mapper,
            self._pending,
            VIEWS_ONLY,
            positions=positions,
            last=last,
        )
        self._folded = last
        self._pending = []

    def _close_gap(self) -> None:
        """Move the scratch views' position to the stored views' (nothing to fold)."""
        if self._scratch is None:
            return
        positions = self._scratch.positions()
        fold_page(
            self._scratch,
            self.app.mapper,
            [],
            VIEWS_ONLY,
            positions=positions,
            last=self.position,
        )


def _compare(table: Table, stored: Connection, fresh: Connection, sealer: Sealer) -> str | None:
    """None when the table's rows are the same in both; else which rows differ.

    Rows are read as the database stores them (on SQLite: ids as hex text, instants as
    text), and most pairs are equal as read. Only where stored forms differ are the values
    made what SQLAlchemy reads them as (sealed text opened), and compared as such."""
    names = [column.name for column in table.columns]
    keys = [names.index(column.name) for column in table.primary_key.columns]
    left, right = _Side(table, stored, sealer), _Side(table, fresh, sealer)
    differing: list[str] = []
    count = 0
    a, b = next(left.rows, None), next(right.rows, None)
    while a is not None or b is not None:
        problem = ""
        if a is not None and b is not None and a == b:
            a, b = next(left.rows, None), next(right.rows, None)
            continue
        key_a = None if a is None else left.key(a, keys)
        key_b = None if b is None else right.key(b, keys)
        if key_b is None or (key_a is not None and key_a < key_b):
            problem = f"{_named(key_a)} is stored but follows from no event"
            a = next(left.rows, None)
        elif key_a is None or key_b < key_a:
            problem, b = f"{_named(key_b)} is missing", next(right.rows, None)
        elif a is not None and b is not None:
            columns = [
                names[i]
                for i in range(len(names))
                if a[i] != b[i] and left.value(i, a[i]) != right.value(i, b[i])
            ]
            problem = f"{_named(key_a)} differs in {', '.join(columns)}" if columns else ""
            a, b = next(left.rows, None), next(right.rows, None)
        if problem:
            count += 1
            if len(differing) < MISMATCHES_NAMED:
                differing.append(problem)
    if not count:
        return None
    more = f" (and {count - len(differing)} more rows)" if count > len(differing) else ""
    return "; ".join(differing) + more


class _Side:
    """One database's rows of a table in key order (ids by their bytes, dates and numbers
    as such, text by code point, as Python compares them), as stored, streamed in pages;
    and how to read a stored value as SQLAlchemy would."""

    def __init__(self, table: Table, conn: Connection, sealer: Sealer) -> None:
        dialect = conn.dialect
        self.sealer = sealer
        self.sealed = [bool(column.info.get("sealed")) for column in table.columns]
        # On SQLite the columns are selected untyped, so the rows come as the driver reads
        # them; elsewhere the driver's own types (uuid, datetime) are read as they are.
        raw = dialect.name == "sqlite"
        self.processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) if raw else None
            for column in table.columns
        ]
        order = [
            column.collate("C")
            if dialect.name == "postgresql" and isinstance(column.type, String)
            else column
            for column in table.primary_key.columns
        ]
        query = (
            select(*(sql_column(column.name) for column in table.columns)).select_from(table)
            if raw
            else select(table)
        )
        result = conn.execution_options(yield_per=PAGE).execute(query.order_by(*order))
        self.rows: Iterator[Row[Any]] = iter(result)

    def value(self, index: int, stored: Any) -> Any:
        if self.sealed[index]:
            return self.sealer.open(stored)
        process = self.processors[index]
        return stored if process is None else process(stored)

    def key(self, row: Row[Any], keys: list[int]) -> tuple[Any, ...]:
        return tuple(self.value(i, row[i]) for i in keys)


def _named(key: tuple[Any, ...] | None) -> str:
    return "row " + "/".join(str(part) for part in key or ())
