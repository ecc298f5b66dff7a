"""The community's rules decide, whichever process or command decides: given the rules in
force, when a command runs, then what the ledger does and records. On the three stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.domain import AggregateEvent

from projections.auditor import verify
from projections.expiry import sweep
from projections.log import read_events
from tests.projections.events import make
from tests.support import (
    TODAY,
    TZ,
    Community,
    build_community,
    event_count,
    replayed,
    views_of,
)
from timebank import TimeBank
from timebank.accounts import Account
from timebank.coordination import Attendee
from timebank.errors import (
    BalanceCapExceededError,
    DailyLimitExceededError,
    InvalidRequestError,
    PermissionDeniedError,
    RecordsRejectedError,
)
from timebank.imports import ServiceRecord
from timebank.policies import Rules
from timebank.policy import Policy
from timebank.reviews import Decision

BEIJING = {"star_ladder_hours": [100, 200, 500, 800, 1000]}


class Clock:
    """The community's calendar, moved on by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)

    def __call__(self) -> datetime:
        return self.now

    def days(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store that several processes open: a SQLite file or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rules.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def opener(durable_url: str, clock: Clock) -> Iterator[Callable[[Rules], TimeBank]]:
    """Open the ledger on the test's store as a process seeded with these rules would."""
    opened: list[TimeBank] = []

    def open_with(seed: Rules) -> TimeBank:
        ledger = TimeBank.from_url(durable_url, policy=Policy(timezone=TZ, seed=seed), clock=clock)
        opened.append(ledger)
        return ledger

    yield open_with
    for ledger in opened:
        ledger.close()


def served(c: Community, volunteer: UUID, minutes: int, day: date = TODAY) -> UUID:
    return c.app.log_service(
        actor_id=volunteer,
        team_id=c.care_team,
        service_date=day,
        minutes=minutes,
        activity="home care",
    ).id


# The rules a ledger starts with, and who may change them ----------------------------------


def test_the_first_command_stores_the_seed_and_later_settings_change_nothing(
    opener: Callable[[Rules], TimeBank],
) -> None:
    first = opener(Rules(balance_cap_minutes=100))
    c = build_community(first)
    other = opener(Rules())  # a process started without the cap, on the same store

    assert [v.version for v in other.policy_versions()] == [1]
    assert other.rules_in_force().rules.balance_cap_minutes == 100
    c.earn(c.li, 80)
    log = other.log_service(
        actor_id=c.li, team_id=c.care_team, service_date=TODAY, minutes=30, activity="care"
    )
    with pytest.raises(BalanceCapExceededError, match="over the balance cap of 100 minutes"):
        other.approve_service(actor_id=c.care_coordinator, service_log_id=log.id)


def test_only_an_admin_adopts_rules_saying_why(app: TimeBank) -> None:
    c = build_community(app)

    with pytest.raises(PermissionDeniedError):
        app.adopt_policy(actor_id=c.care_coordinator, changes=BEIJING, reason="nicer stars")
    with pytest.raises(InvalidRequestError) as refused:
        app.adopt_policy(actor_id=c.admin, changes={"stars": [1]}, reason="typo")
    assert refused.value.field == "stars"

    adopted = app.adopt_policy(actor_id=c.admin, changes=BEIJING, reason="as Beijing does")

    assert (adopted.version, adopted.effective_on, adopted.adopted_by) == (2, TODAY, c.admin)
    assert app.rules_in_force().rules.star_ladder_hours == (100, 200, 500, 800, 1000)


def test_the_import_obeys_the_rules_the_api_obeys(
    opener: Callable[[Rules], TimeBank],
) -> None:
    """The bypass: a cap the API kept, an import run by a process without the setting."""
    api = opener(Rules(balance_cap_minutes=90_000))
    c = build_community(api)
    for day in range(62):
        c.app.approve_service(
            actor_id=c.care_coordinator,
            service_log_id=served(c, c.li, 1440, TODAY - timedelta(days=day + 1)),
        )
    importer = opener(Rules())
    before = event_count(importer)
    records = [ServiceRecord(2, c.li, TODAY, 960, "paper record")]

    with pytest.raises(RecordsRejectedError) as refused:
        importer.import_service_records(
            actor_id=c.care_coordinator,
            team_id=c.care_team,
            name="2026.csv",
            digest="d",
            records=records,
        )

    [(line, _, problem)] = refused.value.problems
    assert line == 2
    assert "over the balance cap of 90000 minutes" in problem
    assert event_count(importer) == before
    assert importer.get_account(c.li).balance_minutes == 62 * 1440


# A day has 24 hours --------------------------------------------------------------------------


def test_two_days_of_service_are_not_credited_for_one_day(app: TimeBank) -> None:
    c = build_community(app)
    first, second = served(c, c.li, 1440), served(c, c.li, 1440)
    app.approve_service(actor_id=c.care_coordinator, service_log_id=first)

    with pytest.raises(DailyLimitExceededError) as refused:
        app.approve_service(actor_id=c.care_coordinator, service_log_id=second)

    assert "past the daily limit of 1440 minutes (1440 already credited that day)" in str(
        refused.value
    )
    assert app.get_service_log(second).status == "pending"
    [outcome] = app.review_service_logs(
        actor_id=c.care_coordinator, decisions=[Decision(second, "approve")]
    )
    assert (outcome.outcome, outcome.code) == ("refused", "daily_limit_exceeded")


def test_an_activity_obeys_the_daily_limit_too(app: TimeBank) -> None:
    c = build_community(app)
    c.earn(c.li, 1000)
    before = event_count(app)

    with pytest.raises(DailyLimitExceededError):
        app.record_activity(
            actor_id=c.care_coordinator,
            team_id=c.care_team,
            service_date=TODAY,
            activity="clinic",
            attendees=[Attendee(c.wang, 120), Attendee(c.li, 480)],
        )

    assert event_count(app) == before


# Rules that change -----------------------------------------------------------------------------


def test_a_rule_adopted_between_two_decisions_decides_the_second(app: TimeBank) -> None:
    c = build_community(app)
    c.earn(c.li, 120)
    app.adopt_policy(actor_id=c.admin, changes={"balance_cap_minutes": 150}, reason="budget")

    with pytest.raises(BalanceCapExceededError):
        c.earn(c.li, 60)
    c.earn(c.li, 30)

    credits = [e for e in app_events(app) if isinstance(e, Account.Earned)]
    assert [e.policy_version for e in credits] == [1, 2]
    assert app.get_account(c.li).balance_minutes == 150


def test_rules_adopted_for_a_later_day_decide_from_that_day(
    opener: Callable[[Rules], TimeBank], clock: Clock
) -> None:
    app = opener(Rules())
    c = build_community(app)
    app.adopt_policy(
        actor_id=c.admin,
        changes={"balance_cap_minutes": 60},
        effective_on=TODAY + timedelta(days=1),
        reason="from tomorrow",
    )
    c.earn(c.li, 90)  # today: no cap yet

    clock.days(1)

    with pytest.raises(BalanceCapExceededError):
        c.earn(c.wang, 90)
    with pytest.raises(InvalidRequestError):
        app.adopt_policy(actor_id=c.admin, changes={}, effective_on=TODAY, reason="backdated")


def test_minimum_age_and_the_hardship_exception(app: TimeBank) -> None:
    c = build_community(app)
    c.earn(c.li, 120)
    app.adopt_policy(actor_id=c.admin, changes={"redemption_min_age": 60}, reason="Nanjing")

    with pytest.raises(PermissionDeniedError, match="members redeem from age 60"):
        app.request_redemption(actor_id=c.li, team_id=c.care_team, service="care", minutes=60)
    with pytest.raises(InvalidRequestError, match="make no exception"):
        app.request_redemption(
            actor_id=c.li, team_id=c.care_team, service="care", minutes=60, hardship="ill"
        )
    app.adopt_policy(actor_id=c.admin, changes={"hardship_exception": True}, reason="Shanghai")
    held = app.request_redemption(
        actor_id=c.li, team_id=c.care_team, service="care", minutes=60, hardship="lives alone, ill"
    )

    assert held.status == "held"


# Expiry ------------------------------------------------------------------------------------


def test_unspent_minutes_expire_on_their_day_into_the_expired_account(
    opener: Callable[[Rules], TimeBank], clock: Clock
) -> None:
    app = opener(Rules(expiry_months=1))
    c = build_community(app)
    c.earn(c.li, 90)
    c.earn(c.wang, 60)
    held = app.request_redemption(actor_id=c.wang, team_id=c.care_team, service="care", minutes=45)

    clock.days(31)
    assert app.expire_minutes(member_id=c.li) == 90
    assert app.expire_minutes(member_id=c.wang) == 15  # the 45 held are not expired
    assert app.expire_minutes(member_id=c.li) == 0

    assert app.get_account(c.li).balance_minutes == 0
    books = replayed(app)
    assert books.system["expired"] == 105
    assert books.total() == 0
    app.cancel_redemption(actor_id=c.wang, redemption_id=held.id)
    with pytest.raises(Exception, match="available"):  # they came back due: a gift expires them
        app.transfer(actor_id=c.wang, to_member_id=c.li, minutes=45)
    assert app.get_account(c.wang).balance_minutes == 0


def test_a_statement_and_a_balance_show_what_expires_when(
    opener: Callable[[Rules], TimeBank], clock: Clock
) -> None:
    app = opener(Rules(expiry_months=12))
    c = build_community(app)
    c.earn(c.li, 90)
    clock.days(366)
    app.expire_minutes(member_id=c.li)

    with views_of(app) as views:
        reader = views.caught_up()
        before = reader.balance(views.everyone, c.li)
        lines = reader.statement(views.everyone, c.li, after=0, limit=10).items

    assert (before.balance_minutes, before.expired_minutes, before.expiring) == (0, 90, [])
    assert [(line.kind, line.minutes, line.counterparty) for line in lines][-1] == (
        "expired",
        -90,
        "expired",
    )


def test_the_sweep_expires_what_is_due_for_every_member(
    opener: Callable[[Rules], TimeBank], clock: Clock
) -> None:
    app = opener(Rules(expiry_months=1))
    c = build_community(app)
    c.earn(c.li, 90)
    c.earn(c.wang, 30)
    with views_of(app) as views:
        views.caught_up()
        assert views.reader.balance(views.everyone, c.li).expiring[0].minutes == 90
        clock.days(40)
        assert sweep(views.runner) == 120
        views.caught_up()
        assert sweep(views.runner) == 0
        assert views.reader.balance(views.everyone, c.wang).balance_minutes == 0


# Verify knows the rules --------------------------------------------------------------------------


def test_verify_reports_a_credit_over_the_cap_forged_into_the_store(
    opener: Callable[[Rules], TimeBank], tmp_path: Path
) -> None:
    app = opener(Rules(balance_cap_minutes=100))
    c = build_community(app)
    c.earn(c.li, 90)
    account = Account.create_id(c.li)
    version = app.recorder.select_events(account, desc=True, limit=1)[0].originator_version
    log = served(c, c.li, 60)
    forged = make(  # a well-formed credit, naming the rules in force
        Account.Earned,
        originator_id=account,
        originator_version=version + 1,
        timestamp=datetime.now(TZ),
        actor_id=c.care_coordinator,
        service_log_id=log,
        minutes=60,
        debit="issuance",
        credit=f"member:{c.li}",
        service_date=TODAY,
        expires_on=None,
        policy_version=1,
        decided_on=TODAY,
    )
    app.recorder.insert_events([app.mapper.to_stored_event(forged)])

    with views_of(app) as views:
        views.caught_up()
        report = verify(app, views.store)

    breaches = [p.detail for p in report.problems if p.kind == "rule_breach"]
    assert breaches == [f"a credit took member {c.li} to 150 minutes, over the cap of 100"]


def app_events(app: TimeBank) -> list[AggregateEvent]:
    return list(read_events(app))


def test_stars_follow_the_ladder_in_force(app: TimeBank) -> None:
    c = build_community(app)
    for day in range(9):
        c.app.approve_service(
            actor_id=c.care_coordinator,
            service_log_id=served(c, c.li, 1440, TODAY - timedelta(days=day + 1)),
        )  # 216 hours
    with views_of(app) as views:
        assert views.caught_up().profile(views.everyone, c.li).star_level == 1
        app.adopt_policy(actor_id=c.admin, changes=BEIJING, reason="Beijing's ladder")
        profile = views.caught_up().profile(views.everyone, c.li)

    assert (profile.star_level, profile.to_next_star_minutes) == (2, 500 * 60 - 216 * 60)
