"""Balances per member and the system accounts, folded from the ledger's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from projections.text import instant_text
from timebank.accounts import ISSUANCE, REDEEMED, Account
from timebank.service_logs import ServiceLog


@dataclass
class MemberMinutes:
    """One member's minutes, as defined in the domain (all integers)."""

    pending: int = 0  # logged, awaiting review
    earned: int = 0  # approved minus reversed
    redeemed: int = 0  # fulfilled redemptions
    held: int = 0  # redemptions requested, not yet fulfilled or cancelled
    received: int = 0  # transfers in
    given: int = 0  # transfers out

    @property
    def balance(self) -> int:
        return self.earned - self.redeemed + self.received - self.given

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass
class Balances:
    """Every member's minutes and the two system accounts (credits minus debits)."""

    members: dict[UUID, MemberMinutes] = field(default_factory=dict)
    system: dict[str, int] = field(default_factory=lambda: {ISSUANCE: 0, REDEEMED: 0})
    account_owner: dict[UUID, UUID] = field(default_factory=dict)  # account id -> member
    pending_logs: dict[UUID, tuple[UUID, int]] = field(default_factory=dict)

    def total(self) -> int:
        """The sum over all accounts; double entry keeps it at zero."""
        return sum(m.balance for m in self.members.values()) + sum(self.system.values())

    def member(self, member_id: UUID) -> MemberMinutes:
        return self.members.setdefault(member_id, MemberMinutes())


def apply(state: Balances, event: AggregateEvent) -> Balances:
    """Fold one event into the balances; events that move no minutes pass through.

    The state is owned by the fold and updated in place, so that replaying a long log
    costs no copies.
    """
    match event:
        case Account.Opened(member_id=member_id):
            state.account_owner[event.originator_id] = member_id
            state.member(member_id)
        case ServiceLog.Logged(volunteer_id=volunteer_id, minutes=minutes):
            state.pending_logs[event.originator_id] = (volunteer_id, minutes)
            state.member(volunteer_id).pending += minutes
        case ServiceLog.Approved() | ServiceLog.Rejected():
            volunteer_id, minutes = state.pending_logs.pop(event.originator_id)
            state.member(volunteer_id).pending -= minutes
        case Account.Earned(minutes=minutes):
            _owner(state, event).earned += minutes
            state.system[ISSUANCE] -= minutes
        case Account.EarningReversed(minutes=minutes):
            _owner(state, event).earned -= minutes
            state.system[ISSUANCE] += minutes
        case Account.Held(minutes=minutes):
            _owner(state, event).held += minutes
        case Account.Released(minutes=minutes):
            _owner(state, event).held -= minutes
        case Account.Redeemed(minutes=minutes):
            owner = _owner(state, event)
            owner.held -= minutes
            owner.redeemed += minutes
            state.system[REDEEMED] += minutes
        case Account.Gave(minutes=minutes):
            _owner(state, event).given += minutes
        case Account.Received(minutes=minutes):
            _owner(state, event).received += minutes
    return state


def _owner(state: Balances, event: AggregateEvent) -> MemberMinutes:
    return state.member(state.account_owner[event.originator_id])


@dataclass(frozen=True)
class StatementLine:
    """One posting that changed a member's balance, with the balance after it."""

    member_id: UUID
    position: int
    recorded_at: str
    kind: str  # earned, earning_reversed, redeemed, gave, received
    reference_id: UUID  # the service log, redemption or transfer
    counterparty: str  # the other account: issuance, redeemed or member:<id>
    minutes: int  # signed: what the posting added to the balance
    balance_minutes: int


StatementRow = tuple[UUID, int, str, str, UUID, str, int, int]
"""A statement line's fields in order, in a plain tuple: what a runner makes for every
posting it folds (cheaper to make than the frozen `StatementLine` a reader gets)."""


def statement_row(state: Balances, position: int, event: AggregateEvent) -> StatementRow | None:
    """The statement line of an event already folded into `state`, if it moved minutes."""
    match event:
        case Account.Earned(service_log_id=ref, minutes=minutes, debit=other):
            kind, signed = "earned", minutes
        case Account.EarningReversed(service_log_id=ref, minutes=minutes, credit=other):
            kind, signed = "earning_reversed", -minutes
        case Account.Redeemed(redemption_id=ref, minutes=minutes, credit=other):
            kind, signed = "redeemed", -minutes
        case Account.Gave(transfer_id=ref, minutes=minutes, credit=other):
            kind, signed = "gave", -minutes
        case Account.Received(transfer_id=ref, minutes=minutes, debit=other):
            kind, signed = "received", minutes
        case _:
            return None
    member_id = state.account_owner[event.originator_id]
    balance = state.members[member_id].balance
    recorded_at = instant_text(event.timestamp)
    return (member_id, position, recorded_at, kind, ref, other, signed, balance)
