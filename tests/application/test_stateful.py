"""Random interleavings of every command, checked against a model and a replay after each step."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory
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

from tests.support import TODAY, Community, build_community, open_ledger, replayed
from timebank.errors import InsufficientMinutesError

MEMBERS = ("li", "wang", "zhao", "grandma")
VOLUNTEERS = ("li", "wang", "zhao")


class LedgerMachine(RuleBasedStateMachine):
    """Several members log, approve, reverse, redeem and give in any order.

    A plain model counts what each member should have; a refusal for lack of minutes must
    happen exactly when the model says the minutes are not there.
    """

    pending_logs = Bundle("pending_logs")
    approved_logs = Bundle("approved_logs")
    holds = Bundle("holds")

    url = "memory://"

    def __init__(self) -> None:
        super().__init__()
        self.app = open_ledger(self.url)
        self.c: Community = build_community(self.app)
        self.balance: Counter[UUID] = Counter()
        self.held: Counter[UUID] = Counter()
        self.pending: Counter[UUID] = Counter()

    def teardown(self) -> None:
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

    @rule(target=pending_logs, volunteer=st.sampled_from(VOLUNTEERS), minutes=st.integers(1, 240))
    def log_service(self, volunteer: str, minutes: int) -> tuple[UUID, UUID, int]:
        who = self.member(volunteer)
        team = self.c.patrol_team if who == self.c.zhao else self.c.care_team
        log = self.app.log_service(
            actor_id=who, team_id=team, service_date=TODAY, minutes=minutes, activity="care"
        )
        self.pending[who] += minutes
        return log.id, who, minutes

    @rule(target=approved_logs, log=consumes(pending_logs), part=st.integers(1, 100))
    def approve(self, log: tuple[UUID, UUID, int], part: int) -> tuple[UUID, UUID, int]:
        log_id, who, minutes = log
        approved = max(1, minutes * part // 100)
        view = self.app.approve_service(
            actor_id=self.coordinator_of(who), service_log_id=log_id, minutes=approved
        )
        assert view.approved_minutes == approved
        self.pending[who] -= minutes
        self.balance[who] += approved
        return log_id, who, approved

    @rule(log=consumes(pending_logs))
    def reject(self, log: tuple[UUID, UUID, int]) -> None:
        log_id, who, minutes = log
        self.app.reject_service(
            actor_id=self.coordinator_of(who), service_log_id=log_id, reason="not confirmed"
        )
        self.pending[who] -= minutes

    @rule(log=approved_logs)
    def reverse(self, log: tuple[UUID, UUID, int]) -> None:
        log_id, who, minutes = log
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

    @rule(target=holds, spender=st.sampled_from(MEMBERS), minutes=st.integers(1, 200))
    def redeem(self, spender: str, minutes: int) -> tuple[UUID, UUID, int] | None:
        who = self.member(spender)
        try:
            redemption = self.app.request_redemption(
                actor_id=who, team_id=self.c.care_team, service="care", minutes=minutes
            )
        except InsufficientMinutesError:
            assert self.available(who) < minutes
            return None
        assert self.available(who) >= minutes
        self.held[who] += minutes
        return redemption.id, who, minutes

    @rule(hold=consumes(holds), fulfil=st.booleans())
    def settle(self, hold: tuple[UUID, UUID, int] | None, fulfil: bool) -> None:
        if hold is None:
            return
        redemption_id, who, minutes = hold
        if fulfil:
            self.app.fulfil_redemption(
                actor_id=self.c.care_coordinator, redemption_id=redemption_id
            )
            self.balance[who] -= minutes
        else:
            self.app.cancel_redemption(actor_id=who, redemption_id=redemption_id)
        self.held[who] -= minutes

    @rule(
        giver=st.sampled_from(MEMBERS),
        receiver=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 200),
    )
    def give(self, giver: str, receiver: str, minutes: int) -> None:
        if giver == receiver:
            return
        source, target = self.member(giver), self.member(receiver)
        try:
            self.app.transfer(actor_id=source, to_member_id=target, minutes=minutes)
        except InsufficientMinutesError:
            assert self.available(source) < minutes
            return
        assert self.available(source) >= minutes
        self.balance[source] -= minutes
        self.balance[target] += minutes

    @invariant()
    def books_balance_and_agree_with_a_replay(self) -> None:
        balances = replayed(self.app)
        assert balances.total() == 0
        for name in MEMBERS:
            who = self.member(name)
            account = self.app.get_account(who)
            folded = balances.members[who]
            assert account.available_minutes >= 0
            assert (account.balance_minutes, account.held_minutes) == (
                self.balance[who],
                self.held[who],
            )
            assert (folded.balance, folded.held, folded.pending) == (
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
