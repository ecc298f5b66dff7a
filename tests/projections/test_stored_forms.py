"""Instants and days are written to SQLite views as SQLAlchemy's own SQLite types write them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import Date, DateTime
from sqlalchemy.dialects import sqlite

from projections import writes
from projections.base import Instant

DIALECT = sqlite.dialect()
INSTANTS = [
    datetime(2024, 3, 1, 9, 30, 0, 0, tzinfo=UTC),  # no microseconds
    datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2025, 1, 1, 7, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),  # Beijing time
    datetime(1890, 6, 1, 0, 0, 12, tzinfo=timezone(timedelta(minutes=-17, seconds=-40))),
    datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=UTC),  # a year of three digits
]
DAYS = [date(2024, 2, 29), date(1, 1, 1), date(987, 6, 5), date(9999, 12, 31)]


def test_an_instant_is_stored_as_sqlalchemys_datetime_stores_it_in_utc() -> None:
    ours = Instant().dialect_impl(DIALECT).bind_processor(DIALECT)
    theirs = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert ours is not None
    assert theirs is not None
    for instant in INSTANTS:
        utc = instant.astimezone(UTC).replace(tzinfo=None)
        assert ours(instant) == theirs(utc)
    assert ours(None) is None


def test_a_day_is_stored_as_sqlalchemys_date_stores_it() -> None:
    ours = writes._sqlite_bind(Date(), DIALECT)
    theirs = Date().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert ours is not None
    assert theirs is not None
    for day in DAYS:
        assert ours(day) == theirs(day)
    assert ours(None) is None
    noon = datetime(2024, 5, 6, 12, 0)  # an instant given for a day is stored as its day
    assert ours(noon) == theirs(noon) == "2024-05-06"
