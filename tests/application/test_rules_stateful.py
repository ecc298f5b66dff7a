"""Random commands under random versions of the community's rules, as the calendar moves on:
nobody is ever credited past the cap or the day's limit in force, below zero, or holding
minutes past their expiry once swept; the books sum to zero and a replay agrees."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from projections.auditor import verify
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from projections.visibility import Viewer
from tests.support import TZ, Community, build_community, replayed
from timebank import TimeBank
from timebank import lots as lots_of
from timebank.accounts import Account
from timebank.application import SYSTEM_ACTOR_ID
from timebank.errors import (
    BalanceCapExceededError,
    DailyLimitExceededError,
    InsufficientMinutesError,
)
from timebank.policy import Policy

VOLUNTEERS = ("li", "wang", "zhao")
MEMBERS = (*VOLUNTEERS, "grandma")
EVERYONE = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)


class Calendar:
    """The community's clock, moved on by the machine."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)

    def __call__(self) -> datetime:
        return self.now


class RulesMachine(RuleBasedStateMachine):
    """An admin adopts caps, daily limits and expiry between any two decisions; service is
    logged for days up to two months back; months pass; members give and redeem."""

    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.calendar = Calendar()
        self.app = TimeBank.from_url("memory://", policy=Policy(timezone=TZ), clock=self.calendar)
        self.c: Community = build_community(self.app)
        self.views = ViewStore.open(self.app, pool_size=2)
        self.views.prepare()
        self.runner = ProjectionRunner(self.app, self.views)
        self.reader = Reader(self.views, self.app.today)

    def teardown(self) -> None:
        self.views.close()
        self.app.close()

    def member(self, name: str) -> UUID:
        member: UUID = getattr(self.c, name)
        return member

    def account(self, member: UUID) -> Account:
        account: Account = self.app.repository.get(Account.create_id(member))
        return account

    def today(self) -> date:
        return self.app.today()

    @initialize()
    def seed(self) -> None:
        self.c.earn(self.c.li, 300)

    @rule(
        cap=st.one_of(st.none(), st.integers(200, 3000)),
        limit=st.integers(60, 1440),
        months=st.one_of(st.none(), st.integers(1, 3)),
    )
    def adopt(self, cap: int | None, limit: int, months: int | None) -> None:
        version = self.app.adopt_policy(
            actor_id=self.c.admin,
            changes={
                "balance_cap_minutes": cap,
                "daily_limit_minutes": limit,
                "expiry_months": months,
            },
            reason="the committee met",
        )
        assert self.app.rules_in_force().version == version.version

    @rule(days=st.integers(1, 75))
    def time_passes(self, days: int) -> None:
        self.calendar.now += timedelta(days=days)

    @rule(
        volunteer=st.sampled_from(VOLUNTEERS),
        minutes=st.integers(1, 900),
        days_ago=st.integers(0, 60),
    )
    def serve(self, volunteer: str, minutes: int, days_ago: int) -> None:
        who = self.member(volunteer)
        team = self.c.patrol_team if who == self.c.zhao else self.c.care_team
        coordinator = (
            self.c.patrol_coordinator if team == self.c.patrol_team else self.c.care_coordinator
        )
        day = self.today() - timedelta(days=days_ago)
        log = self.app.log_service(
            actor_id=who, team_id=team, service_date=day, minutes=minutes, activity="care"
        )
        rules = self.app.rules_in_force().rules
        try:
            self.app.approve_service(actor_id=coordinator, service_log_id=log.id)
        except BalanceCapExceededError:
            assert rules.balance_cap_minutes is not None
            assert self.account(who).balance + minutes > rules.balance_cap_minutes
            return
        except DailyLimitExceededError:
            assert self.account(who).daily.get(day.isoformat(), 0) + minutes > (
                rules.daily_limit_minutes
            )
            return
        account = self.account(who)
        cap = rules.balance_cap_minutes
        assert cap is None or account.balance <= cap
        assert account.daily[day.isoformat()] <= rules.daily_limit_minutes
        assert all(
            key == lots_of.NEVER or date.fromisoformat(key) > self.today() for key in account.lots
        ), "a credit is never already due"

    @rule(
        giver=st.sampled_from(VOLUNTEERS),
        receiver=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 400),
    )
    def give(self, giver: str, receiver: str, minutes: int) -> None:
        source, target = self.member(giver), self.member(receiver)
        if source == target:
            return
        cap = self.app.rules_in_force().rules.balance_cap_minutes
        try:
            self.app.transfer(actor_id=source, to_member_id=target, minutes=minutes)
        except InsufficientMinutesError:
            return
        except BalanceCapExceededError:
            assert cap is not None
            assert self.account(target).balance + minutes > cap
            return
        assert cap is None or self.account(target).balance <= cap

    @rule(target=holds, spender=st.sampled_from(MEMBERS), minutes=st.integers(1, 400))
    def redeem(self, spender: str, minutes: int) -> UUID | None:
        who = self.member(spender)
        try:
            held = self.app.request_redemption(
                actor_id=who, team_id=self.c.care_team, service="care", minutes=minutes
            )
        except InsufficientMinutesError:
            return None
        return held.id

    @rule(hold=consumes(holds), fulfil=st.booleans())
    def settle(self, hold: UUID | None, fulfil: bool) -> None:
        if hold is None:
            return
        if fulfil:
            self.app.fulfil_redemption(actor_id=self.c.care_coordinator, redemption_id=hold)
        else:
            self.app.cancel_redemption(actor_id=self.c.admin, redemption_id=hold)

    @rule()
    def sweep(self) -> None:
        """The views' writer's sweep: afterwards nobody holds a minute past its day."""
        for name in MEMBERS:
            self.app.expire_minutes(member_id=self.member(name))
        for name in MEMBERS:
            assert lots_of.due(self.account(self.member(name)).lots, self.today()) == []

    @rule()
    def audit(self) -> None:
        """An auditor's verify: every decision kept the rules of its day."""
        self.runner.catch_up()
        report = verify(self.app, self.views)
        assert report.problems == [], [p.detail for p in report.problems]

    @invariant()
    def books_sum_to_zero_and_every_account_agrees_with_its_lots_a_replay_and_the_views(
        self,
    ) -> None:
        books = replayed(self.app)
        assert books.total() == 0
        self.runner.catch_up()
        for name in MEMBERS:
            who = self.member(name)
            account = self.account(who)
            in_holds = sum(m for parts in account.held_lots.values() for _, m in parts)
            assert account.available >= 0
            assert sum(account.lots.values()) == account.available
            assert in_holds == account.held
            folded = books.members[who]
            seen = self.reader.balance(EVERYONE, who)
            assert (folded.balance, folded.held) == (account.balance, account.held)
            assert (seen.balance_minutes, seen.held_minutes, seen.expired_minutes) == (
                account.balance,
                account.held,
                account.expired,
            )


RulesMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRulesInMemory = RulesMachine.TestCase
