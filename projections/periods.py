"""Reporting periods: all time, a year `2026`, a month `2026-11` or an ISO week `2026-W45`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from timebank.rules import PERIOD


class PeriodError(ValueError):
    """The text names no period this ledger reports on."""


@dataclass(frozen=True)
class Period:
    """A span of service dates, first and last day included (None: unbounded)."""

    name: str
    first: date | None
    last: date | None

    def contains(self, day: date) -> bool:
        if self.first is not None and day < self.first:
            return False
        return self.last is None or day <= self.last


ALL_TIME = Period("all", None, None)


def parse_period(text: str) -> Period:
    """`all`, `2026`, `2026-11` or `2026-W45` (ISO weeks run Monday to Sunday), in the
    digits 0-9 only (see `timebank.rules.PERIOD`)."""
    text = text.strip()
    match = PERIOD.fullmatch(text)
    if match is None:
        raise PeriodError(f"unknown period {text!r}: use all, YYYY, YYYY-MM or YYYY-Www")
    if text == "all":
        return ALL_TIME
    year = int(match["year"])
    _check_year(year, text)
    if match["month"] is not None:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise PeriodError(f"no month {month} in {text!r}")
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return Period(text, first, following - timedelta(days=1))
    if match["week"] is not None:
        week = int(match["week"])
        try:
            first = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise PeriodError(f"ISO year {year} has no week {week}") from None
        return Period(text, first, first + timedelta(days=6))
    return Period(text, date(year, 1, 1), date(year, 12, 31))


def _check_year(year: int, text: str) -> None:
    if not 1 <= year <= 9998:
        raise PeriodError(f"year out of range in {text!r}")
