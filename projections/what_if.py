"""What would differ under other rules: the whole history replayed as if a proposed rule set
had always been in force, without writing anything.

Each credit, gift and redemption of the log is decided again by the proposed rules: a
credit over the cap or past the day's limit, a gift over the cap, a redemption under the
minimum age are counted as refused (and their minutes do not arrive); a spend the replayed
balance can no longer afford is refused too. Minutes are kept in lots that expire as the
proposed rules say, and expire in the replay on their day. At the end, the report says
which members would now be over the cap, which minutes would have expired, whose star
level would change, and how many decisions would have been refused, with examples.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from projections.log import read_events
from timebank import lots
from timebank.accounts import Account
from timebank.members import Member
from timebank.policies import Rules
from timebank.redemptions import Redemption
from timebank.stars import star_level

if TYPE_CHECKING:
    from timebank.application import TimeBank

EXAMPLES = 20  # of each kind of difference, the first ones in log order


@dataclass(frozen=True)
class Refusal:
    """A decision the proposed rules would have refused."""

    position: int
    kind: str  # over_cap, over_daily_limit, under_min_age, not_affordable
    member_id: UUID
    name: str
    minutes: int
    day: date | None


@dataclass(frozen=True)
class MemberChange:
    member_id: UUID
    name: str
    before: int  # minutes, or a star level
    after: int


@dataclass
class WhatIf:
    """The report: what the proposed rules would change in the history so far."""

    events: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    refusals: list[Refusal] = field(default_factory=list)  # the first EXAMPLES of each kind
    over_cap: list[MemberChange] = field(default_factory=list)  # balance now, and the cap
    expired_minutes: int = 0
    expired: list[MemberChange] = field(default_factory=list)  # balance, less what expired
    star_changes: list[MemberChange] = field(default_factory=list)


class _Member:
    __slots__ = ("balance", "birth", "daily", "earned", "expired", "held", "lots", "name")

    def __init__(self, name: str, birth: date | None) -> None:
        self.name, self.birth = name, birth
        self.balance = self.earned = self.expired = 0
        self.lots: lots.Lots = {}
        self.held: dict[UUID, tuple[int, list[lots.Part]]] = {}  # redemption -> minutes, lots
        self.daily: dict[date, int] = {}


def replay_under(app: TimeBank, proposed: Rules) -> WhatIf:
    """The report for the ledger `app` (its whole log) under `proposed`, as of its today;
    star levels are compared with the ladder in force today."""
    replay = _Replay(proposed, app.policy.timezone)
    today, current = app.today(), app.rules_in_force().rules
    position = 0
    for position, event in enumerate(read_events(app), start=1):
        replay.apply(position, event)
    return replay.report(position, today, current)


@dataclass(frozen=True)
class _Where:
    """The event being replayed: its position, whose account, and its day."""

    position: int
    member_id: UUID
    member: _Member
    day: date


class _Replay:
    def __init__(self, rules: Rules, timezone: tzinfo) -> None:
        self.rules, self.timezone = rules, timezone
        self.members: dict[UUID, _Member] = {}
        self.owners: dict[UUID, UUID] = {}  # account id -> member id
        self.refused_credits: set[UUID] = set()  # service logs whose credit was refused
        self.refused_holds: set[UUID] = set()
        self.gifts: dict[UUID, list[lots.Part]] = {}  # transfer -> the lots the giver gave
        self.real: dict[UUID, int] = {}  # member -> balance as it stands in the ledger
        self.real_earned: dict[UUID, int] = {}
        self.result = WhatIf()

    def apply(self, position: int, event: AggregateEvent) -> None:
        match event:
            case Member.Registered(name=name, birth_date=birth):
                self.members[event.originator_id] = _Member(name, birth)
            case Account.Opened(member_id=member_id):
                self.owners[event.originator_id] = member_id
                self.members.setdefault(member_id, _Member("", None))
            case Redemption.Requested(member_id=member_id, hardship=hardship, minutes=minutes):
                self._requested(position, event, member_id, hardship, minutes)
            case Account.Event():
                self._moved(position, event)

    def _requested(
        self,
        position: int,
        event: AggregateEvent,
        member_id: UUID,
        hardship: str | None,
        minutes: int,
    ) -> None:
        rules, member = self.rules, self.members.get(member_id)
        if rules.redemption_min_age is None or member is None:
            return
        day = self._day(event)
        age = None if member.birth is None else _age(member.birth, day)
        allowed = hardship is not None and rules.hardship_exception
        if (age is None or age < rules.redemption_min_age) and not allowed:
            self.refused_holds.add(event.originator_id)
            self._refuse(position, "under_min_age", member_id, minutes, day)

    def _moved(self, position: int, event: AggregateEvent) -> None:
        member_id = self.owners.get(event.originator_id)
        if member_id is None:
            return
        member, day = self.members[member_id], self._day(event)
        self._real(member_id, event)
        for key, minutes in lots.due(member.lots, day):
            member.lots.pop(key)
            member.balance -= minutes
            member.expired += minutes
        at = _Where(position, member_id, member, day)
        match event:
            case Account.Earned():
                self._earned(at, event)
            case Account.EarningReversed(service_log_id=log_id, minutes=minutes):
                if log_id not in self.refused_credits:  # else never credited in the replay
                    self._spend(at, minutes)
                    member.earned -= minutes
            case Account.Held(redemption_id=held, minutes=minutes):
                if held in self.refused_holds:
                    return
                if self._spend(at, minutes, keep=False):
                    member.held[held] = (minutes, lots.take(member.lots, minutes))
                else:
                    self.refused_holds.add(held)
            case Account.Released(redemption_id=held):
                _, parts = member.held.pop(held, (0, []))
                lots.put_back(member.lots, parts)
            case Account.Redeemed(redemption_id=held):
                minutes, _ = member.held.pop(held, (0, []))
                member.balance -= minutes
            case Account.Gave(transfer_id=gift, minutes=minutes):
                parts = lots.take(dict(member.lots), minutes)
                if self._spend(at, minutes):
                    self.gifts[gift] = parts
            case Account.Received(transfer_id=gift, minutes=minutes):
                self._received(at, gift, minutes)

    def _earned(self, at: _Where, event: Account.Earned) -> None:
        rules, member, minutes, served = self.rules, at.member, event.minutes, event.service_date
        day = event.decided_on or at.day
        already = member.daily.get(served, 0) if served is not None else 0
        cap = rules.balance_cap_minutes
        if cap is not None and member.balance + minutes > cap:
            self._refuse(at.position, "over_cap", at.member_id, minutes, day)
        elif served is not None and already + minutes > rules.daily_limit_minutes:
            self._refuse(at.position, "over_daily_limit", at.member_id, minutes, served)
        else:
            member.balance += minutes
            member.earned += minutes
            if served is not None:
                member.daily[served] = already + minutes
            expires = None if served is None else lots.expires_on(served, rules.expiry_months)
            key = lots.expiry_key(expires)
            lots.add(member.lots, key, minutes)
            return
        self.refused_credits.add(event.service_log_id)

    def _received(self, at: _Where, gift: UUID, minutes: int) -> None:
        if gift not in self.gifts:
            return  # the gift was refused on the giver's side
        parts = self.gifts.pop(gift)
        cap = self.rules.balance_cap_minutes
        if cap is not None and at.member.balance + minutes > cap:
            self._refuse(at.position, "over_cap", at.member_id, minutes, at.day)
            return
        at.member.balance += minutes
        lots.put_back(at.member.lots, parts)

    def _spend(self, at: _Where, minutes: int, *, keep: bool = True) -> bool:
        """Take minutes the replayed balance holds; refused (and counted) when it cannot."""
        member = at.member
        held = sum(m for m, _ in member.held.values())
        if member.balance - held < minutes:
            self._refuse(at.position, "not_affordable", at.member_id, minutes, at.day)
            return False
        if keep:
            member.balance -= minutes
            lots.take(member.lots, minutes)
        return True

    def _real(self, member_id: UUID, event: AggregateEvent) -> None:
        """The balance and lifetime credit as the ledger itself has them."""
        match event:
            case Account.Earned(minutes=m) | Account.Received(minutes=m):
                self.real[member_id] = self.real.get(member_id, 0) + m
                if isinstance(event, Account.Earned):
                    self.real_earned[member_id] = self.real_earned.get(member_id, 0) + m
            case Account.EarningReversed(minutes=m):
                self.real[member_id] = self.real.get(member_id, 0) - m
                self.real_earned[member_id] = self.real_earned.get(member_id, 0) - m
            case Account.Redeemed(minutes=m) | Account.Gave(minutes=m) | Account.Expired(minutes=m):
                self.real[member_id] = self.real.get(member_id, 0) - m

    def _refuse(self, position: int, kind: str, member_id: UUID, minutes: int, day: date) -> None:
        result = self.result
        result.refused[kind] += 1
        if result.refused[kind] <= EXAMPLES:
            name = self.members[member_id].name if member_id in self.members else ""
            result.refusals.append(Refusal(position, kind, member_id, name, minutes, day))

    def _day(self, event: AggregateEvent) -> date:
        return event.timestamp.astimezone(self.timezone).date()

    def report(self, events: int, today: date, current: Rules) -> WhatIf:
        result, rules = self.result, self.rules
        result.events = events
        for member_id, member in self.members.items():
            for key, minutes in lots.due(member.lots, today):
                member.lots.pop(key)
                member.balance -= minutes
                member.expired += minutes
            real = self.real.get(member_id, 0)
            cap = rules.balance_cap_minutes
            if cap is not None and real > cap:
                result.over_cap.append(MemberChange(member_id, member.name, real, cap))
            if member.expired:
                result.expired_minutes += member.expired
                result.expired.append(
                    MemberChange(member_id, member.name, real, real - member.expired)
                )
            before = star_level(self.real_earned.get(member_id, 0), current.star_ladder_hours)
            after = star_level(member.earned, rules.star_ladder_hours)
            if before != after:
                result.star_changes.append(MemberChange(member_id, member.name, before, after))
        result.over_cap.sort(key=lambda c: (-c.before, c.name))
        result.expired.sort(key=lambda c: (c.after - c.before, c.name))
        result.star_changes.sort(key=lambda c: (c.after - c.before, c.name))
        return result


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
