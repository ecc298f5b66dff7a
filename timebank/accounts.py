"""Time accounts: every member's minutes, kept by double entry against two system accounts.

The chart of accounts has one account per member and two system accounts: `issuance`,
which every approved minute is drawn from, and `redeemed`, which every fulfilled
redemption feeds. Each movement names its debit and credit account; a debit takes
minutes out of an account and a credit puts them in, so all accounts sum to zero.

The system accounts are not aggregates of their own. Each movement that touches them is
recorded on the member's account, naming the system account as its other side; their
balances are folds of those events. That keeps every approval in the bank from
contending for one hot aggregate, while a member's account stays the one place that
decides whether its minutes may be spent.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from timebank.copying import ValueAttributes
from timebank.errors import (
    BalanceCapExceededError,
    InsufficientMinutesError,
    InvalidStateError,
)
from timebank.rules import require_minutes

ISSUANCE = "issuance"
REDEEMED = "redeemed"
SYSTEM_ACCOUNTS = (ISSUANCE, REDEEMED)

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
        """Approved service credited the member, drawn from the issuance account."""

        TOPIC = "timebank:Account.Earned"
        service_log_id: UUID
        minutes: int
        debit: str
        credit: str

    class EarningReversed(Event):
        """A reversed approval took its minutes back to the issuance account."""

        TOPIC = "timebank:Account.EarningReversed"
        service_log_id: UUID
        minutes: int
        debit: str
        credit: str

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
        """The member received minutes from another member."""

        TOPIC = "timebank:Account.Received"
        transfer_id: UUID
        from_member_id: UUID
        minutes: int
        debit: str
        credit: str

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
        self.holds: dict[str, int] = {}  # redemption id (hex) -> minutes held

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """The copy a command changes: `holds` is the one mutable attribute of its own."""
        copied = super().__deepcopy__(memo)
        copied.holds = dict(self.holds)
        return copied

    @property
    def code(self) -> str:
        return account_code(self.member_id)

    @property
    def balance(self) -> int:
        return self.earned - self.redeemed + self.received - self.given

    @property
    def held(self) -> int:
        return sum(self.holds.values())

    @property
    def available(self) -> int:
        """Minutes the member may spend or give now; never below zero."""
        return self.balance - self.held

    def earn(self, *, actor_id: UUID, service_log_id: UUID, minutes: int, cap: int | None) -> None:
        self._check_cap(minutes, cap)
        self._earned(
            actor_id=actor_id,
            service_log_id=service_log_id,
            minutes=minutes,
            debit=ISSUANCE,
            credit=self.code,
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
    ) -> None:
        self.earned += minutes

    def reverse_earning(self, *, actor_id: UUID, service_log_id: UUID, minutes: int) -> None:
        """A reversal that would overdraw the account is refused."""
        self._check_available(minutes)
        self._earning_reversed(
            actor_id=actor_id,
            service_log_id=service_log_id,
            minutes=minutes,
            debit=self.code,
            credit=ISSUANCE,
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
    ) -> None:
        self.earned -= minutes

    def hold(self, *, actor_id: UUID, redemption_id: UUID, minutes: int) -> None:
        """One hold per redemption, of minutes that are available now."""
        if redemption_id.hex in self.holds:
            raise InvalidStateError("hold", redemption_id, "already held", "hold")
        self._check_available(minutes)
        self._held(actor_id=actor_id, redemption_id=redemption_id, minutes=minutes)

    @event(Held)
    def _held(self, *, actor_id: UUID, redemption_id: UUID, minutes: int) -> None:
        self.holds[redemption_id.hex] = minutes

    def release(self, *, actor_id: UUID, redemption_id: UUID) -> None:
        minutes = self._hold_of(redemption_id, "release")
        self._released(actor_id=actor_id, redemption_id=redemption_id, minutes=minutes)

    @event(Released)
    def _released(self, *, actor_id: UUID, redemption_id: UUID, minutes: int) -> None:
        del self.holds[redemption_id.hex]

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
        self.redeemed += minutes

    def give(self, *, actor_id: UUID, transfer_id: UUID, to_member_id: UUID, minutes: int) -> None:
        self._check_available(minutes)
        self._gave(
            actor_id=actor_id,
            transfer_id=transfer_id,
            to_member_id=to_member_id,
            minutes=minutes,
            debit=self.code,
            credit=account_code(to_member_id),
        )

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

    def receive(
        self,
        *,
        actor_id: UUID,
        transfer_id: UUID,
        from_member_id: UUID,
        minutes: int,
        cap: int | None,
    ) -> None:
        self._check_cap(minutes, cap)
        self._received(
            actor_id=actor_id,
            transfer_id=transfer_id,
            from_member_id=from_member_id,
            minutes=minutes,
            debit=account_code(from_member_id),
            credit=self.code,
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
    ) -> None:
        self.received += minutes

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
