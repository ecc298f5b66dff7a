"""The community's rules as a value, their versions in the ledger, and minutes in lots."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from timebank import lots
from timebank.errors import InvalidRequestError
from timebank.policies import Policies, Rules
from timebank.rules import EARLIEST_DATE

TODAY = date(2026, 11, 20)
ADMIN = uuid4()
BEIJING = (100, 200, 500, 800, 1000)


def book(seed: Rules | None = None) -> Policies:
    started = Policies.start(actor_id=ADMIN, seed=seed or Rules())
    started.collect_events()
    return started


# Rules --------------------------------------------------------------------------------------


def test_the_default_rules_keep_todays_behaviour_but_a_day_has_24_hours() -> None:
    rules = Rules()

    assert (rules.balance_cap_minutes, rules.redemption_min_age, rules.expiry_months) == (
        None,
        None,
        None,
    )
    assert rules.daily_limit_minutes == 1440
    assert rules.star_ladder_hours == (100, 300, 600, 1000, 1500)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"balance_cap_minutes": 0}, "balance_cap_minutes"),
        ({"daily_limit_minutes": 1441}, "daily_limit_minutes"),
        ({"redemption_min_age": -1}, "redemption_min_age"),
        ({"expiry_months": 0}, "expiry_months"),
        ({"star_ladder_hours": [100, 100]}, "star_ladder_hours"),
        ({"star_ladder_hours": []}, "star_ladder_hours"),
        ({"certificate_prefix": "lk"}, "certificate_prefix"),
        ({"organisation": "  "}, "organisation"),
        ({"hardship_exception": "yes"}, "hardship_exception"),
        ({"balance_cap_minutes": "90000"}, "balance_cap_minutes"),
        ({"balance_cap": 90000}, "balance_cap"),
        # What a TOML file or a JSON body may hold instead: never a crash.
        ({"star_ladder_hours": None}, "star_ladder_hours"),
        ({"star_ladder_hours": "100,200"}, "star_ladder_hours"),
        ({"daily_limit_minutes": None}, "daily_limit_minutes"),
        ({"organisation": 3}, "organisation"),
        ({"certificate_prefix": None}, "certificate_prefix"),
    ],
)
def test_rules_that_cannot_be_are_refused_naming_the_rule(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Rules().changed(changes)
    assert refused.value.field == field


def test_a_change_names_only_what_changes() -> None:
    nanjing = Rules(balance_cap_minutes=90_000, redemption_min_age=60)

    beijing_ladder = nanjing.changed({"star_ladder_hours": list(BEIJING)})

    assert beijing_ladder.balance_cap_minutes == 90_000
    assert beijing_ladder.star_ladder_hours == BEIJING
    assert Rules.of(beijing_ladder.as_dict()) == beijing_ladder


# Versions ---------------------------------------------------------------------------------


def test_a_new_ledger_starts_with_its_seed_as_version_one_from_the_earliest_day() -> None:
    started = Policies.start(actor_id=ADMIN, seed=Rules(balance_cap_minutes=90_000))

    _, adopted = started.collect_events()

    assert isinstance(adopted, Policies.Adopted)
    assert (adopted.version, adopted.effective_on) == (1, EARLIEST_DATE)
    assert started.in_force_on(date(1950, 1, 1)).rules.balance_cap_minutes == 90_000


def test_a_version_adopted_for_a_later_day_decides_from_that_day_only() -> None:
    rules = book()
    tomorrow = TODAY + timedelta(days=1)

    adopted = rules.adopt(
        actor_id=ADMIN,
        rules=Rules(star_ladder_hours=BEIJING),
        effective_on=tomorrow,
        reason="Beijing's ladder from the new year",
        today=TODAY,
    )

    [event] = rules.collect_events()
    assert isinstance(event, Policies.Adopted)
    assert (event.version, event.effective_on, event.reason) == (
        2,
        tomorrow,
        "Beijing's ladder from the new year",
    )
    assert adopted.version == 2
    assert rules.in_force_on(TODAY).version == 1
    assert rules.in_force_on(tomorrow).rules.star_ladder_hours == BEIJING


@pytest.mark.parametrize("days", [-1, -365])
def test_rules_never_take_effect_in_the_past(days: int) -> None:
    rules = book()

    with pytest.raises(InvalidRequestError) as refused:
        rules.adopt(
            actor_id=ADMIN,
            rules=Rules(),
            effective_on=TODAY + timedelta(days=days),
            reason="backdated",
            today=TODAY,
        )

    assert refused.value.field == "effective_on"
    assert rules.collect_events() == []


def test_a_version_never_takes_effect_before_the_latest_ones_day() -> None:
    rules = book()
    rules.adopt(
        actor_id=ADMIN,
        rules=Rules(),
        effective_on=TODAY + timedelta(days=30),
        reason="a",
        today=TODAY,
    )

    with pytest.raises(InvalidRequestError, match="takes effect on"):
        rules.adopt(
            actor_id=ADMIN,
            rules=Rules(),
            effective_on=TODAY + timedelta(days=10),
            reason="b",
            today=TODAY,
        )
    with pytest.raises(InvalidRequestError):
        rules.adopt(actor_id=ADMIN, rules=Rules(), effective_on=TODAY, reason=" ", today=TODAY)


def test_every_ledger_has_one_book_of_rules_its_id_fixed() -> None:
    assert Policies.start(actor_id=ADMIN, seed=Rules()).id == book().id


# Lots -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "months", "expires"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 20), 36, date(2029, 11, 20)),
        (date(2026, 11, 20), None, None),
    ],
)
def test_minutes_expire_so_many_months_after_they_were_served(
    served: date, months: int | None, expires: date | None
) -> None:
    assert lots.expires_on(served, months) == expires


def test_spending_takes_the_minutes_that_expire_soonest_and_never_expiring_ones_last() -> None:
    held: lots.Lots = {lots.NEVER: 50, "2027-03-01": 30, "2026-12-01": 20}

    taken = lots.take(held, 60)

    assert taken == [("2026-12-01", 20), ("2027-03-01", 30), (lots.NEVER, 10)]
    assert held == {lots.NEVER: 40}
    assert lots.due({"2026-12-01": 5, lots.NEVER: 9}, date(2026, 12, 1)) == [("2026-12-01", 5)]
    assert lots.due({"2026-12-02": 5}, date(2026, 12, 1)) == []
