"""Balances per member and the system accounts, and every member's statement.

`apply` is the fold of the ledger's account events into `Balances`: the auditor's replay
runs it over the whole log in memory, and the read model runs the same fold over the
accounts one batch touches, loaded from and stored back to its tables. Pending minutes
are not an account's: they are the sum of the member's pending service logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, select

from projections.base import ID, METADATA, Batch, Instant, chunks
from timebank.accounts import EXPIRED, ISSUANCE, REDEEMED, SYSTEM_ACCOUNTS, Account
from timebank.lots import Lots, Part, add, expiry_key, put_back, take


@dataclass
class MemberMinutes:
    """One member's account, as defined in the domain (all integers)."""

    earned: int = 0  # approved minus reversed
    redeemed: int = 0  # fulfilled redemptions
    held: int = 0  # redemptions requested, not yet fulfilled or cancelled
    received: int = 0  # transfers in
    given: int = 0  # transfers out
    expired: int = 0  # unspent past their lot's day
    lots: Lots = field(default_factory=dict)  # the balance's minutes by expiry day
    held_lots: dict[str, list[Part]] = field(default_factory=dict)  # by redemption

    @property
    def balance(self) -> int:
        return self.earned - self.redeemed + self.received - self.given - self.expired

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass
class Balances:
    """Every member's minutes and the two system accounts (credits minus debits)."""

    members: dict[UUID, MemberMinutes] = field(default_factory=dict)
    system: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SYSTEM_ACCOUNTS, 0))
    account_owner: dict[UUID, UUID] = field(default_factory=dict)  # account id -> member

    def total(self) -> int:
        """The sum over all accounts; double entry keeps it at zero."""
        return sum(m.balance for m in self.members.values()) + sum(self.system.values())

    def member(self, member_id: UUID) -> MemberMinutes:
        return self.members.setdefault(member_id, MemberMinutes())


def apply(state: Balances, event: AggregateEvent) -> Balances:
    """Fold one event into the balances; events that move no minutes pass through.

    The state is owned by the fold and updated in place, so that replaying a long log
    costs no copies."""
    match event:
        case Account.Opened(member_id=member_id):
            state.account_owner[event.originator_id] = member_id
            state.member(member_id)
        case Account.Earned(minutes=minutes, expires_on=expires_on):
            owner = _owner(state, event)
            owner.earned += minutes
            add(owner.lots, expiry_key(expires_on), minutes)
            state.system[ISSUANCE] -= minutes
        case Account.EarningReversed(minutes=minutes):
            owner = _owner(state, event)
            owner.earned -= minutes
            take(owner.lots, minutes)
            state.system[ISSUANCE] += minutes
        case Account.Held(redemption_id=held, minutes=minutes):
            owner = _owner(state, event)
            owner.held += minutes
            owner.held_lots[held.hex] = take(owner.lots, minutes)
        case Account.Released(redemption_id=held, minutes=minutes):
            owner = _owner(state, event)
            owner.held -= minutes
            put_back(owner.lots, owner.held_lots.pop(held.hex, ()))
        case Account.Redeemed(redemption_id=held, minutes=minutes):
            owner = _owner(state, event)
            owner.held -= minutes
            owner.held_lots.pop(held.hex, None)
            owner.redeemed += minutes
            state.system[REDEEMED] += minutes
        case Account.Gave(minutes=minutes):
            owner = _owner(state, event)
            owner.given += minutes
            take(owner.lots, minutes)
        case Account.Received(minutes=minutes, lots=parts):
            owner = _owner(state, event)
            owner.received += minutes
            came = [(key, part) for key, part in parts] if parts is not None else [("", minutes)]
            put_back(owner.lots, came)
        case Account.Expired(expires_on=expires_on, minutes=minutes):
            owner = _owner(state, event)
            owner.expired += minutes
            owner.lots.pop(expires_on.isoformat(), None)
            state.system[EXPIRED] += minutes
    return state


def _owner(state: Balances, event: AggregateEvent) -> MemberMinutes:
    return state.member(state.account_owner[event.originator_id])


def statement_line(state: Balances, position: int, event: AggregateEvent) -> dict[str, Any] | None:
    """The statement line of an event already folded into `state`, if it moved minutes:
    what it added to the balance (signed) and the balance after it."""
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
        case Account.Expired(originator_id=ref, minutes=minutes, credit=other):
            kind, signed = "expired", -minutes
        case _:
            return None
    member_id = state.account_owner[event.originator_id]
    return {
        "member_id": member_id,
        "position": position,
        "recorded_at": event.timestamp,
        "kind": kind,
        "reference_id": ref,
        "counterparty": other,
        "minutes": signed,
        "balance_minutes": state.members[member_id].balance,
    }


balances = Table(
    "view_balances",
    METADATA,
    Column("account_id", ID, primary_key=True),
    Column("member_id", ID, nullable=False, unique=True),
    Column("earned", BigInteger, nullable=False),
    Column("redeemed", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("given", BigInteger, nullable=False),
    Column("expired", BigInteger, nullable=False),
    Column("lots", Text, nullable=False),  # JSON: {expiry day or "": minutes}
    Column("held_lots", Text, nullable=False),  # JSON: {redemption id hex: [[day, minutes]]}
)

system_accounts = Table(
    "view_system_accounts",
    METADATA,
    Column("account", String(20), primary_key=True),
    Column("minutes", BigInteger, nullable=False),
)

statement_lines = Table(
    "view_statement_lines",
    METADATA,
    Column("member_id", ID, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("recorded_at", Instant, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("reference_id", ID, nullable=False),
    Column("counterparty", Text, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("balance_minutes", BigInteger, nullable=False),
)

_COUNTERS = ("earned", "redeemed", "held", "received", "given", "expired")


class BalancesProjection:
    """The accounts a batch touches are loaded, folded with `apply`, and stored back."""

    name: ClassVar[str] = "balances"
    tables: ClassVar[tuple[Table, ...]] = (balances, system_accounts, statement_lines)

    def fold(self, batch: Batch) -> None:
        events = batch.of(Account.Event)
        if not events:
            return
        conn = batch.conn
        state = Balances()
        accounts = {logged.event.originator_id for logged in events}
        for chunk in chunks(accounts):
            for row in conn.execute(select(balances).where(balances.c.account_id.in_(chunk))):
                state.account_owner[row.account_id] = row.member_id
                state.members[row.member_id] = MemberMinutes(
                    **{c: int(row._mapping[c]) for c in _COUNTERS},
                    lots=json.loads(row.lots),
                    held_lots={
                        held: [(key, part) for key, part in parts]
                        for held, parts in json.loads(row.held_lots).items()
                    },
                )
        for row in conn.execute(select(system_accounts)):
            state.system[row.account] = row.minutes
        lines = []
        for logged in events:
            apply(state, logged.event)
            line = statement_line(state, logged.position, logged.event)
            if line is not None:
                lines.append(line)
        batch.upsert(
            balances,
            [
                {"account_id": account, "member_id": member, **_counters(state.members[member])}
                for account, member in state.account_owner.items()
            ],
            keys=["account_id"],
        )
        batch.upsert(
            system_accounts,
            [{"account": name, "minutes": minutes} for name, minutes in state.system.items()],
            keys=["account"],
        )
        batch.insert(statement_lines, lines)


def _counters(minutes: MemberMinutes) -> dict[str, Any]:
    return {
        **{name: getattr(minutes, name) for name in _COUNTERS},
        "lots": json.dumps(minutes.lots, sort_keys=True),
        "held_lots": json.dumps(minutes.held_lots, sort_keys=True),
    }
