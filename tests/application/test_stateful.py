"""Random interleavings of every command, checked against a model and a replay after each step."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from uuid import UUID

import pytest
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
from tests.support import TODAY, Community, build_community, open_ledger, replayed
from timebank.application import SYSTEM_ACTOR_ID
from timebank.errors import (
    BalanceCapExceededError,
    DailyLimitExceededError,
    InsufficientMinutesError,
    InvalidRequestError,
    PermissionDeniedError,
)
from timebank.policies import DEFAULT_DAILY_LIMIT

MEMBERS = ("li", "wang", "zhao", "grandma")
VOLUNTEERS = ("li", "wang", "zhao")
EVERYONE = Viewer(SYSTEM_ACTOR_ID, sees_everything=True)
# Who may ask to spend someone's minutes, or confirm a delivery: every kind of person.
ASKERS = ("li", "wang", "zhao", "grandma", "care_coordinator", "patrol_coordinator", "admin")


class LedgerMachine(RuleBasedStateMachine):
    """Several members log, approve, reverse, redeem and give in any order, and anyone
    tries to spend anyone's minutes, approve anyone's service and confirm any delivery.

    An admin now and then adopts a new balance cap (or removes it), and service is logged
    for any of the last few days.

    A plain model counts what each member should have; a refusal for lack of minutes must
    happen exactly when the model says the minutes are not there, a refusal over the cap
    or the day's limit exactly when the rules in force say so, and a refusal for lack
    of consent or for a conflict of duties exactly when the rules say so: minutes leave an
    account only by the member, their agent (Wang acts for Grandma) or the code of their
    card (printed by the admin, taken by the day-care coordinator); whoever asked on a
    member's behalf never confirms the delivery; nobody reviews their own service.
    """

    pending_logs = Bundle("pending_logs")
    approved_logs = Bundle("approved_logs")
    holds = Bundle("holds")

    url = "memory://"

    def __init__(self) -> None:
        super().__init__()
        self.app = open_ledger(self.url)
        self.c: Community = build_community(self.app)
        self.views = ViewStore.open(self.app, pool_size=2)
        self.views.prepare()
        self.runner = ProjectionRunner(self.app, self.views)
        self.reader = Reader(self.views, self.app.today)
        self.balance: Counter[UUID] = Counter()
        self.held: Counter[UUID] = Counter()
        self.pending: Counter[UUID] = Counter()
        self.credited: Counter[tuple[UUID, date]] = Counter()  # for the day's limit
        self.cap: int | None = None

    def teardown(self) -> None:
        self.views.close()
        self.app.close()

    def member(self, name: str) -> UUID:
        member: UUID = getattr(self.c, name)
        return member

    def available(self, member: UUID) -> int:
        return self.balance[member] - self.held[member]

    def coordinator_of(self, volunteer: UUID) -> UUID:
        return self.c.patrol_coordinator if volunteer == self.c.zhao else self.c.care_coordinator

    @initialize()
    def seed(self) -> None:
        self.c.earn(self.c.li, 120)
        self.balance[self.c.li] += 120
        self.credited[self.c.li, TODAY] += 120
        self.app.register_agent(
            actor_id=self.c.grandma, member_id=self.c.grandma, agent_id=self.c.wang
        )
        self.codes = {
            self.member(name): self.app.issue_card(
                actor_id=self.c.admin, member_id=self.member(name)
            ).code
            for name in MEMBERS
        }

    def consents(self, asker: UUID, owner: UUID, with_code: bool) -> bool:
        """The rule: the member, their agent, or staff of the day-care team with the code of
        a card someone else printed (the admin printed every card here)."""
        if asker == owner or (owner == self.c.grandma and asker == self.c.wang):
            return True
        return with_code and asker == self.c.care_coordinator

    def over_cap(self, member: UUID, minutes: int) -> bool:
        return self.cap is not None and self.balance[member] + minutes > self.cap

    @rule(cap=st.one_of(st.none(), st.integers(100, 1500)))
    def adopt_a_cap(self, cap: int | None) -> None:
        version = self.app.adopt_policy(
            actor_id=self.c.admin,
            changes={"balance_cap_minutes": cap},
            reason="the fund's guarantee changed",
        )
        assert version.rules.balance_cap_minutes == cap
        self.cap = cap

    @rule(
        target=pending_logs,
        volunteer=st.sampled_from(VOLUNTEERS),
        minutes=st.integers(1, 600),
        days_ago=st.integers(0, 2),
    )
    def log_service(
        self, volunteer: str, minutes: int, days_ago: int
    ) -> tuple[UUID, UUID, int, date]:
        who = self.member(volunteer)
        team = self.c.patrol_team if who == self.c.zhao else self.c.care_team
        day = TODAY - timedelta(days=days_ago)
        log = self.app.log_service(
            actor_id=who, team_id=team, service_date=day, minutes=minutes, activity="care"
        )
        self.pending[who] += minutes
        return log.id, who, minutes, day

    @rule(
        target=approved_logs,
        log=consumes(pending_logs),
        part=st.integers(1, 100),
        reviewer=st.sampled_from(ASKERS),
    )
    def approve(
        self, log: tuple[UUID, UUID, int, date], part: int, reviewer: str
    ) -> tuple[UUID, UUID, int, date] | None:
        log_id, who, minutes, day = log
        approved = max(1, minutes * part // 100)
        by = self.member(reviewer)
        if by not in (self.coordinator_of(who), self.c.admin):
            with pytest.raises(PermissionDeniedError):  # not their team, or their own service
                self.app.approve_service(actor_id=by, service_log_id=log_id, minutes=approved)
            by = self.coordinator_of(who)
        refusal: type[Exception] | None = None
        if self.over_cap(who, approved):
            refusal = BalanceCapExceededError
        elif self.credited[who, day] + approved > DEFAULT_DAILY_LIMIT:
            refusal = DailyLimitExceededError
        if refusal is not None:
            with pytest.raises(refusal):
                self.app.approve_service(actor_id=by, service_log_id=log_id, minutes=approved)
            self.app.reject_service(actor_id=by, service_log_id=log_id, reason="over the rules")
            self.pending[who] -= minutes
            return None
        view = self.app.approve_service(actor_id=by, service_log_id=log_id, minutes=approved)
        assert view.approved_minutes == approved
        self.pending[who] -= minutes
        self.balance[who] += approved
        self.credited[who, day] += approved
        return log_id, who, approved, day

    @rule(log=consumes(pending_logs))
    def reject(self, log: tuple[UUID, UUID, int, date]) -> None:
        log_id, who, minutes, _ = log
        self.app.reject_service(
            actor_id=self.coordinator_of(who), service_log_id=log_id, reason="not confirmed"
        )
        self.pending[who] -= minutes

    @rule(log=approved_logs)
    def reverse(self, log: tuple[UUID, UUID, int, date] | None) -> None:
        if log is None:
            return
        log_id, who, minutes, day = log
        if self.app.get_service_log(log_id).status != "approved":
            return  # reversed already, by an earlier step on the same log
        try:
            self.app.reverse_service(
                actor_id=self.coordinator_of(who), service_log_id=log_id, reason="error"
            )
        except InsufficientMinutesError:
            assert self.available(who) < minutes
            return
        self.balance[who] -= minutes
        self.credited[who, day] -= minutes  # the day may be credited again

    @rule(
        target=holds,
        asker=st.sampled_from(ASKERS),
        spender=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 200),
        with_code=st.booleans(),
    )
    def redeem(
        self, asker: str, spender: str, minutes: int, with_code: bool
    ) -> tuple[UUID, UUID, int, UUID] | None:
        who, by = self.member(spender), self.member(asker)
        allowed = self.consents(by, who, with_code)
        try:
            redemption = self.app.request_redemption(
                actor_id=by,
                member_id=who,
                team_id=self.c.care_team,
                service="care",
                minutes=minutes,
                card_code=self.codes[who] if with_code else None,
            )
        except PermissionDeniedError:
            assert not allowed
            return None
        except InsufficientMinutesError as refused:
            disclosed: bool | None = refused.disclosed
        else:
            disclosed = None
        if disclosed is not None:
            assert allowed
            assert self.available(who) < minutes
            # Only the member and their agent are told what the member holds.
            assert disclosed == (by == who or (by, who) == (self.c.wang, self.c.grandma))
            return None
        assert allowed
        assert self.available(who) >= minutes
        assert redemption.consent == (
            "member"
            if by == who
            else "agent"
            if by == self.c.wang and who == self.c.grandma
            else "card"
        )
        self.held[who] += minutes
        return redemption.id, who, minutes, by

    @rule(hold=consumes(holds), fulfil=st.booleans(), confirmer=st.sampled_from(ASKERS))
    def settle(
        self, hold: tuple[UUID, UUID, int, UUID] | None, fulfil: bool, confirmer: str
    ) -> None:
        if hold is None:
            return
        redemption_id, who, minutes, asked_by = hold
        if fulfil:
            by = self.member(confirmer)
            leads = by in (self.c.care_coordinator, self.c.admin)
            allowed = leads and not (by == asked_by and asked_by != who)
            try:
                self.app.fulfil_redemption(actor_id=by, redemption_id=redemption_id)
            except PermissionDeniedError:
                assert not allowed
                self.app.cancel_redemption(actor_id=who, redemption_id=redemption_id)
            else:
                assert allowed
                self.balance[who] -= minutes
        else:
            self.app.cancel_redemption(actor_id=who, redemption_id=redemption_id)
        self.held[who] -= minutes

    @rule(
        asker=st.sampled_from(ASKERS),
        giver=st.sampled_from(MEMBERS),
        receiver=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 200),
    )
    def give(self, asker: str, giver: str, receiver: str, minutes: int) -> None:
        if giver == receiver:
            return
        source, target, by = self.member(giver), self.member(receiver), self.member(asker)
        allowed = self.consents(by, source, with_code=False) and (by == source or target != by)
        try:
            self.app.transfer(
                actor_id=by, from_member_id=source, to_member_id=target, minutes=minutes
            )
        except PermissionDeniedError:
            assert not self.consents(by, source, with_code=False)
            return
        except InvalidRequestError:
            assert target == by != source  # never to whoever asks for the giver
            return
        except InsufficientMinutesError:
            assert allowed
            assert self.available(source) < minutes
            return
        except BalanceCapExceededError:
            assert allowed
            assert self.over_cap(target, minutes)
            return
        assert allowed
        assert self.available(source) >= minutes
        assert not self.over_cap(target, minutes)
        self.balance[source] -= minutes
        self.balance[target] += minutes

    @rule()
    def audit(self) -> None:
        """An auditor's verify, now and then: every decision kept the rules of its day, and
        the views agree with a replay."""
        self.runner.catch_up()
        report = verify(self.app, self.views)
        assert report.problems == [], [p.detail for p in report.problems]

    @invariant()
    def books_balance_and_agree_with_a_replay_and_the_views(self) -> None:
        balances = replayed(self.app)
        assert balances.total() == 0
        self.runner.catch_up()
        for name in MEMBERS:
            who = self.member(name)
            account = self.app.get_account(who)
            folded = balances.members[who]
            assert account.available_minutes >= 0
            assert (account.balance_minutes, account.held_minutes) == (
                self.balance[who],
                self.held[who],
            )
            assert (folded.balance, folded.held) == (self.balance[who], self.held[who])
            seen = self.reader.balance(EVERYONE, who)
            assert (seen.balance_minutes, seen.held_minutes, seen.pending_minutes) == (
                self.balance[who],
                self.held[who],
                self.pending[who],
            )


LedgerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerInMemory = LedgerMachine.TestCase


class SQLiteLedgerMachine(LedgerMachine):
    """The same interleavings on a real SQLite file, fewer of them."""

    def __init__(self) -> None:
        self.directory = TemporaryDirectory()
        self.url = f"sqlite:///{Path(self.directory.name) / 'timebank.db'}"
        super().__init__()

    def teardown(self) -> None:
        super().teardown()
        self.directory.cleanup()


SQLiteLedgerMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerOnSQLite = SQLiteLedgerMachine.TestCase
