"""Time accounts: every member's minutes, kept by double entry against system accounts.

The chart of accounts has one account per member and three system accounts: `issuance`,
which every approved minute is drawn from, `redeemed`, which every fulfilled redemption
feeds, and `expired`, which minutes left unspent past their expiry go to. Each movement
names its debit and credit account; a debit takes minutes out of an account and a credit
puts them in, so all accounts sum to zero.

Minutes are kept as lots by the day they expire (see `timebank.lots`): spending takes the
soonest to expire first, and a lot still unspent on its day leaves the balance by an
`Expired` event into the `expired` system account, so the books still sum to zero.

The system accounts are not aggregates of their own. Each movement that touches them is
recorded on the member's account, naming the system account as its other side; their
balances are folds of those events. That keeps every approval in the bank from
contending for one hot aggregate, while a member's account stays the one place that
decides whether its minutes may be spent.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from timebank import lots
from timebank.copying import ValueAttributes
from timebank.errors import (
    BalanceCapExceededError,
    DailyLimitExceededError,
    InsufficientMinutesError,
    InvalidStateError,
)
from timebank.lots import put_back
from timebank.policies import PolicyVersion
from timebank.rules import require_minutes
from timebank.upcasting import upcast_from

ISSUANCE = "issuance"
REDEEMED = "redeemed"
EXPIRED = "expired"
SYSTEM_ACCOUNTS = (ISSUANCE, REDEEMED, EXPIRED)

_ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "timebank:account")


def account_code(member_id: UUID) -> str:
    """How a member's account is named in debit and credit fields."""
    return f"member:{member_id}"


class Account(ValueAttributes, Aggregate):
    """A member's minutes: balance, holds for redemptions, and what is available."""

    TOPIC = "timebank:Account"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Account.Event"
        actor_id: UUID

    class Opened(Event, Aggregate.Created):
        """Every member has exactly one account, opened when they register."""

        TOPIC = "timebank:Account.Opened"
        member_id: UUID

    class Earned(Event):
        """Approved service credited the member, drawn from the issuance account.

        Version 2 records the day served (`service_date`, for the daily limit), the day
        the minutes expire (`expires_on`, None: never), the rules' version that decided it
        (`policy_version`) and the ledger's day it was decided on (`decided_on`, whose
        rules were in force); version 1 credits recorded none (version 0: before rules were
        kept in the ledger)."""

        TOPIC = "timebank:Account.Earned"
        class_version = 2
        service_log_id: UUID
        minutes: int
        debit: str
        credit: str
        service_date: date | None
        expires_on: date | None
        policy_version: int
        decided_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["service_date"] = None
            state["expires_on"] = None
            state["policy_version"] = 0
            state["decided_on"] = None

    class EarningReversed(Event):
        """A reversed approval took its minutes back to the issuance account (version 2
        names the day served, so that the day's credited minutes fall again)."""

        TOPIC = "timebank:Account.EarningReversed"
        class_version = 2
        service_log_id: UUID
        minutes: int
        debit: str
        credit: str
        service_date: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["service_date"] = None

    class Held(Event):
        """Minutes were reserved for a redemption; they are no longer available."""

        TOPIC = "timebank:Account.Held"
        redemption_id: UUID
        minutes: int

    class Released(Event):
        """A cancelled redemption gave its reserved minutes back."""

        TOPIC = "timebank:Account.Released"
        redemption_id: UUID
        minutes: int

    class Redeemed(Event):
        """A fulfilled redemption spent its reserved minutes into the redeemed account."""

        TOPIC = "timebank:Account.Redeemed"
        redemption_id: UUID
        minutes: int
        debit: str
        credit: str

    class Gave(Event):
        """The member gave minutes to another member (转赠)."""

        TOPIC = "timebank:Account.Gave"
        transfer_id: UUID
        to_member_id: UUID
        minutes: int
        debit: str
        credit: str

    class Received(Event):
        """The member received minutes from another member. Version 2 records the lots
        they came in (`lots`: [day they expire or "", minutes], the giver's soonest first,
        so that a gift never resets an expiry) and the rules' version that decided it."""

        TOPIC = "timebank:Account.Received"
        class_version = 2
        transfer_id: UUID
        from_member_id: UUID
        minutes: int
        debit: str
        credit: str
        lots: list[list[Any]] | None
        policy_version: int
        decided_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["lots"] = None
            state["policy_version"] = 0
            state["decided_on"] = None

    class Expired(Event):
        """Minutes still unspent on the day their lot expires left for the expired account
        (never minutes held for a redemption)."""

        TOPIC = "timebank:Account.Expired"
        expires_on: date
        minutes: int
        debit: str
        credit: str
        decided_on: date

    @staticmethod
    @lru_cache(maxsize=4096)  # a SHA-1 each time; a transfer needs two, every command one
    def create_id(member_id: UUID) -> UUID:
        """One account per member: its id follows from the member's, so a second fails."""
        return uuid5(_ACCOUNT_NAMESPACE, str(member_id))

    @event(Opened)
    def __init__(self, *, actor_id: UUID, member_id: UUID) -> None:
        self.member_id = member_id
        self.earned = 0
        self.redeemed = 0
        self.received = 0
        self.given = 0
        self.expired = 0
        self.holds: dict[str, int] = {}  # redemption id (hex) -> minutes held
        self.held_lots: dict[str, list[lots.Part]] = {}  # the lots each hold took
        self.lots: lots.Lots = {}  # the balance's minutes by the day they expire
        self.daily: dict[str, int] = {}  # service day (ISO) -> minutes credited for it

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """The copy a command changes: the dictionaries its appliers change in place are
        its own. `daily` is shared: its appliers replace it, never change it (it holds a
        day for every day ever served, and only a credit or its reversal touches it)."""
        copied = super().__deepcopy__(memo)
        copied.holds = dict(self.holds)
        copied.held_lots = dict(self.held_lots)
        copied.lots = dict(self.lots)
        return copied

    @property
    def code(self) -> str:
        return account_code(self.member_id)

    @property
    def balance(self) -> int:
        return self.earned - self.redeemed + self.received - self.given - self.expired

    @property
    def held(self) -> int:
        return sum(self.holds.values())

    @property
    def available(self) -> int:
        """Minutes the member may spend or give now; never below zero."""
        return self.balance - self.held

    def earn(
        self,
        *,
        actor_id: UUID,
        service_log_id: UUID,
        minutes: int,
        service_date: date,
        policy: PolicyVersion,
        today: date,
    ) -> None:
        """Credit approved service under the rules in force today: within the balance cap
        and the day's limit, in a lot that expires as the rules say, counted from the day
        served (so that paper records imported years later bring no fresh validity)."""
        rules = policy.rules
        self._check_cap(minutes, rules.balance_cap_minutes)
        already = self.daily.get(service_date.isoformat(), 0)
        if already + minutes > rules.daily_limit_minutes:
            raise DailyLimitExceededError(
                self.member_id, service_date, rules.daily_limit_minutes, already, minutes
            )
        self._earned(
            actor_id=actor_id,
            service_log_id=service_log_id,
            minutes=minutes,
            debit=ISSUANCE,
            credit=self.code,
            service_date=service_date,
            expires_on=lots.expires_on(service_date, rules.expiry_months),
            policy_version=policy.version,
            decided_on=today,
        )

    @event(Earned)
    def _earned(
        self,
        *,
        actor_id: UUID,
        service_log_id: UUID,
        minutes: int,
        debit: str,
        credit: str,
        service_date: date | None,
        expires_on: date | None,
        policy_version: int,
        decided_on: date | None,
    ) -> None:
        self.earned += minutes
        lots.add(self.lots, lots.expiry_key(expires_on), minutes)
        if service_date is not None:
            day = service_date.isoformat()
            self.daily = {**self.daily, day: self.daily.get(day, 0) + minutes}

    def reverse_earning(
        self, *, actor_id: UUID, service_log_id: UUID, minutes: int, service_date: date
    ) -> None:
        """A reversal that would overdraw the account is refused; it takes its minutes
        back like a spend, from the lots that expire soonest."""
        self._check_available(minutes)
        self._earning_reversed(
            actor_id=actor_id,
            service_log_id=service_log_id,
            minutes=minutes,
            debit=self.code,
            credit=ISSUANCE,
            service_date=service_date,
        )

    @event(EarningReversed)
    def _earning_reversed(
        self,
        *,
        actor_id: UUID,
        service_log_id: UUID,
        minutes: int,
        debit: str,
        credit: str,
        service_date: date | None,
    ) -> None:
        self.earned -= minutes
        lots.take(self.lots, minutes)
        if service_date is not None:
            day = service_date.isoformat()
            self.daily = {**self.daily, day: self.daily.get(day, 0) - minutes}

    def hold(self, *, actor_id: UUID, redemption_id: UUID, minutes: int) -> None:
        """One hold per redemption, of minutes that are available now."""
        if redemption_id.hex in self.holds:
            raise InvalidStateError("hold", redemption_id, "already held", "hold")
        self._check_available(minutes)
        self._held(actor_id=actor_id, redemption_id=redemption_id, minutes=minutes)

    @event(Held)
    def _held(self, *, actor_id: UUID, redemption_id: UUID, minutes: int) -> None:
        self.holds[redemption_id.hex] = minutes
        self.held_lots[redemption_id.hex] = lots.take(self.lots, minutes)

    def release(self, *, actor_id: UUID, redemption_id: UUID) -> None:
        minutes = self._hold_of(redemption_id, "release")
        self._released(actor_id=actor_id, redemption_id=redemption_id, minutes=minutes)

    @event(Released)
    def _released(self, *, actor_id: UUID, redemption_id: UUID, minutes: int) -> None:
        """The held minutes come back as the lots they were (expired since: at the next
        command, or the next sweep)."""
        del self.holds[redemption_id.hex]
        lots.put_back(self.lots, self.held_lots.pop(redemption_id.hex, ()))

    def redeem(self, *, actor_id: UUID, redemption_id: UUID) -> None:
        minutes = self._hold_of(redemption_id, "redeem")
        self._redeemed(
            actor_id=actor_id,
            redemption_id=redemption_id,
            minutes=minutes,
            debit=self.code,
            credit=REDEEMED,
        )

    @event(Redeemed)
    def _redeemed(
        self,
        *,
        actor_id: UUID,
        redemption_id: UUID,
        minutes: int,
        debit: str,
        credit: str,
    ) -> None:
        del self.holds[redemption_id.hex]
        self.held_lots.pop(redemption_id.hex, None)
        self.redeemed += minutes

    def give(
        self, *, actor_id: UUID, transfer_id: UUID, to_member_id: UUID, minutes: int
    ) -> list[lots.Part]:
        """The minutes leave from the lots that expire soonest; returns those lots, which
        the receiver keeps as they were."""
        self._check_available(minutes)
        given = lots.take(dict(self.lots), minutes)
        self._gave(
            actor_id=actor_id,
            transfer_id=transfer_id,
            to_member_id=to_member_id,
            minutes=minutes,
            debit=self.code,
            credit=account_code(to_member_id),
        )
        return given

    @event(Gave)
    def _gave(
        self,
        *,
        actor_id: UUID,
        transfer_id: UUID,
        to_member_id: UUID,
        minutes: int,
        debit: str,
        credit: str,
    ) -> None:
        self.given += minutes
        lots.take(self.lots, minutes)

    def receive(
        self,
        *,
        actor_id: UUID,
        transfer_id: UUID,
        from_member_id: UUID,
        minutes: int,
        given: list[lots.Part],
        policy: PolicyVersion,
        today: date,
    ) -> None:
        self._check_cap(minutes, policy.rules.balance_cap_minutes)
        self._received(
            actor_id=actor_id,
            transfer_id=transfer_id,
            from_member_id=from_member_id,
            minutes=minutes,
            debit=account_code(from_member_id),
            credit=self.code,
            lots=[[key, part] for key, part in given],
            policy_version=policy.version,
            decided_on=today,
        )

    @event(Received)
    def _received(
        self,
        *,
        actor_id: UUID,
        transfer_id: UUID,
        from_member_id: UUID,
        minutes: int,
        debit: str,
        credit: str,
        lots: list[list[Any]] | None,
        policy_version: int,
        decided_on: date | None,
    ) -> None:
        self.received += minutes
        came = [(key, part) for key, part in lots] if lots is not None else [("", minutes)]
        put_back(self.lots, came)  # `lots` here is the event's field

    def expire(self, *, actor_id: UUID, today: date) -> int:
        """Every lot unspent by its day leaves the balance (held minutes are not in the
        lots, so a hold is never expired); returns how many minutes expired."""
        total = 0
        for key, minutes in lots.due(self.lots, today):
            self._expired(
                actor_id=actor_id,
                expires_on=date.fromisoformat(key),
                minutes=minutes,
                debit=self.code,
                credit=EXPIRED,
                decided_on=today,
            )
            total += minutes
        return total

    @event(Expired)
    def _expired(
        self,
        *,
        actor_id: UUID,
        expires_on: date,
        minutes: int,
        debit: str,
        credit: str,
        decided_on: date,
    ) -> None:
        self.expired += minutes
        self.lots = {k: m for k, m in self.lots.items() if k != expires_on.isoformat()}

    def expiring(self) -> list[tuple[date, int]]:
        """What will expire when, soonest first (held minutes excepted)."""
        return lots.expiring(self.lots)

    def _check_available(self, minutes: int) -> None:
        require_minutes("minutes", minutes)
        if minutes > self.available:
            raise InsufficientMinutesError(self.member_id, minutes, self.available)

    def _check_cap(self, minutes: int, cap: int | None) -> None:
        require_minutes("minutes", minutes)
        if cap is not None and self.balance + minutes > cap:
            raise BalanceCapExceededError(self.member_id, self.balance, minutes, cap)

    def _hold_of(self, redemption_id: UUID, action: str) -> int:
        try:
            return self.holds[redemption_id.hex]
        except KeyError:
            raise InvalidStateError("hold", redemption_id, "not held", action) from None
