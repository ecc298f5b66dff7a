"""Reports are read at one position: a report the views' writer moved under is read again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest

from projections.queries import Reader
from projections.queries.reports import at_one_position, hours
from projections.store import VIEWS
from timebank.errors import ConcurrencyError


class MovingStore:
    """Positions as a writer moving the views would show them, read after read."""

    def __init__(self, positions: list[int]) -> None:
        self._positions: Iterator[int] = iter(positions)

    def positions(self) -> dict[str, int]:
        return {VIEWS: next(self._positions)}


class FakeReader:
    def __init__(self, store: MovingStore) -> None:
        self.store = store


def _reader(positions: list[int]) -> Reader:
    return cast(Reader, FakeReader(MovingStore(positions)))


def test_a_report_the_views_moved_under_is_read_again_at_the_later_position() -> None:
    reads: list[int] = []

    def read() -> int:
        reads.append(len(reads) + 1)
        return reads[-1]

    assert at_one_position(_reader([5, 6, 6, 6]), read) == (6, 2)


def test_a_writer_that_never_stops_makes_the_report_busy_not_wrong() -> None:
    with pytest.raises(ConcurrencyError):
        at_one_position(_reader(list(range(100))), lambda: None)


def test_hours_are_whole_hours_and_minutes() -> None:
    assert [hours(0), hours(59), hours(135), hours(-90)] == ["0:00", "0:59", "2:15", "-1:30"]
