"""Every stored view, compared row by row with the log folded afresh, in bounded memory.

The stored views are read in one snapshot, at the position they stand at; the log is
folded up to that very position into empty views in a temporary file (the same read
models, the same code the runner runs); then each table of both is read in key order and
compared row against row, a page at a time. Sealed text is compared opened, since every
sealing draws a new nonce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import MapperDeserialisationError
from sqlalchemy import Connection, String, Table, select

from projections import registry
from projections.base import Sealer
from projections.runner import VIEWS_ONLY, ProjectionRunner
from projections.store import VIEWS, ViewStore, scratch_store
from timebank.application import TimeBank

MISMATCHES_NAMED = 5  # per table: the first rows that differ are named, then a count


@dataclass(frozen=True)
class Mismatch:
    """A view table that differs from the log folded afresh."""

    position: int
    table: str
    detail: str


def compare_views(
    app: TimeBank, store: ViewStore, *, progress: Callable[[int], None] | None = None
) -> tuple[int, list[Mismatch]]:
    """The views' position, and every table that differs from a fresh fold up to it."""
    scratch = scratch_store(store.sealer)
    try:
        scratch.prepare()
        with store.read() as live:
            position = store.positions(live)[VIEWS]
            fresh_runner = ProjectionRunner(app, scratch, groups=VIEWS_ONLY)
            fresh_runner.claim()
            try:
                fresh_runner.catch_up(until=position, progress=progress)
            except MapperDeserialisationError as error:
                # An event that cannot be read (reported on its own) cannot be folded:
                # the views are not compared rather than compared with a wrong fold.
                why = f"not compared: the log cannot be folded afresh ({error})"
                return position, [Mismatch(position, "every view", why)]
            mismatches: list[Mismatch] = []
            with scratch.read() as fresh:
                for projection in registry.VIEWS:
                    for table in projection.tables:
                        detail = _compare(table, live, fresh, store.sealer)
                        if detail is not None:
                            mismatches.append(Mismatch(position, table.name, detail))
        return position, mismatches
    finally:
        scratch.close()


def _compare(table: Table, stored: Connection, fresh: Connection, sealer: Sealer) -> str | None:
    """None when the table's rows are the same in both; else which rows differ."""
    keys = [column.name for column in table.primary_key.columns]
    differing: list[str] = []
    count = 0
    left, right = _rows(table, stored, sealer), _rows(table, fresh, sealer)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        key_a = None if a is None else tuple(a[k] for k in keys)
        key_b = None if b is None else tuple(b[k] for k in keys)
        if key_b is None or (key_a is not None and _order(key_a) < _order(key_b)):
            problem, a = f"{_named(key_a)} is stored but follows from no event", next(left, None)
        elif key_a is None or _order(key_b) < _order(key_a):
            problem, b = f"{_named(key_b)} is missing", next(right, None)
        else:
            if a is None or b is None:  # pragma: no cover - both keys are there
                raise AssertionError("both sides have this key")
            columns = [name for name in a if a[name] != b[name]]
            problem = f"{_named(key_a)} differs in {', '.join(columns)}" if columns else ""
            a, b = next(left, None), next(right, None)
        if problem:
            count += 1
            if len(differing) < MISMATCHES_NAMED:
                differing.append(problem)
    if not count:
        return None
    more = f" (and {count - len(differing)} more rows)" if count > len(differing) else ""
    return "; ".join(differing) + more


def _rows(table: Table, conn: Connection, sealer: Sealer) -> Iterator[dict[str, Any]]:
    """The table's rows in key order, sealed text opened, streamed a page at a time."""
    sealed = [column.name for column in table.columns if column.info.get("sealed")]
    order = [
        # Text in code point order on both sides, as Python compares it.
        column.collate("C")
        if conn.dialect.name == "postgresql" and isinstance(column.type, String)
        else column
        for column in table.primary_key.columns
    ]
    query = select(table).order_by(*order)
    result = conn.execution_options(yield_per=2000).execute(query)
    for row in result:
        values = dict(row._mapping)
        for name in sealed:
            values[name] = sealer.open(values[name])
        yield values


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Keys compared the way both databases order them: ids as their bytes, dates and
    numbers as such, text by code point."""
    return key


def _named(key: tuple[Any, ...] | None) -> str:
    return "row " + "/".join(str(part) for part in key or ())
