"""Reporting periods and the star ladder, at their boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from projections.periods import ALL_TIME, PeriodError, parse_period
from timebank.stars import DEFAULT_LADDER_HOURS, parse_ladder, star_level


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-W45", date(2026, 11, 2), date(2026, 11, 8)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),  # week 1 starts in the old year
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),  # and week 53 ends in the new
        ("2027-W52", date(2027, 12, 27), date(2028, 1, 2)),
    ],
)
def test_a_period_spans_exactly_its_days(text: str, first: date, last: date) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)
    assert period.contains(first)
    assert period.contains(last)
    assert not period.contains(date.fromordinal(first.toordinal() - 1))
    assert not period.contains(date.fromordinal(last.toordinal() + 1))


def test_all_time_contains_every_day() -> None:
    assert parse_period("all") is ALL_TIME
    assert ALL_TIME.contains(date(1900, 1, 1))
    assert ALL_TIME.contains(date(2999, 12, 31))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "26",
        "2026-13",
        "2026-00",
        "2025-W53",
        "2026-W00",
        "2026-11-01",
        "week",
        "0000",
        "\u0662\u0660\u0662\u0666",  # Arabic-Indic digits: \\d matched them
        "\uff12\uff10\uff12\uff16-11",  # full-width digits
        "2026-W\u0664\u0665",
    ],
)
def test_periods_that_do_not_exist_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


@pytest.mark.parametrize(
    ("minutes", "stars"),
    [
        (0, 0),
        (100 * 60 - 1, 0),
        (100 * 60, 1),
        (300 * 60 - 1, 1),
        (300 * 60, 2),
        (600 * 60, 3),
        (1000 * 60, 4),
        (1500 * 60 - 1, 4),
        (1500 * 60, 5),
        (5000 * 60, 5),
    ],
)
def test_star_levels_rise_at_each_rung(minutes: int, stars: int) -> None:
    assert star_level(minutes) == stars


def test_a_city_can_use_its_own_ladder() -> None:
    beijing = parse_ladder("100,200,500,800,1000")
    assert star_level(200 * 60, beijing) == 2
    assert star_level(200 * 60, DEFAULT_LADDER_HOURS) == 1


@pytest.mark.parametrize("text", ["", "100,100", "300,100", "0,100", "a,b", "-5"])
def test_a_ladder_must_rise(text: str) -> None:
    with pytest.raises(ValueError, match="ladder"):
        parse_ladder(text)
