"""What reads return, and how lists are paged: plain frozen data."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


class CursorError(ValueError):
    """An `after` names nothing the list knows (a page cannot start there)."""

    def __init__(self, field: str = "after") -> None:
        super().__init__(f"{field}: names no item of this list; start again without it")
        self.field = field
        self.message = "names no item of this list; start again without it"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: Any | None


# What reads return ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberTeam:
    team_id: UUID
    name: str
    community: str
    role: str
    since: date
    accepted: bool


@dataclass(frozen=True)
class Agent:
    agent_id: UUID
    since: date
    until: date | None


@dataclass(frozen=True)
class Profile:
    id: UUID
    name: str
    roles: list[str]
    registered_at: datetime
    teams: list[MemberTeam]
    lifetime_minutes: int
    star_level: int
    anonymous: bool
    agents: list[Agent] = field(default_factory=list)
    code: str = ""  # the member code on their card
    to_next_star_minutes: int | None = None  # lifetime minutes still to serve; None: top


@dataclass(frozen=True)
class Balance:
    member_id: UUID
    pending_minutes: int
    earned_minutes: int
    redeemed_minutes: int
    held_minutes: int
    received_minutes: int
    given_minutes: int
    balance_minutes: int
    available_minutes: int
    expired_minutes: int = 0
    expiring: list[Expiring] = field(default_factory=list)  # soonest first


@dataclass(frozen=True)
class Expiring:
    """Minutes of the balance that expire on a day, unless spent before."""

    expires_on: date
    minutes: int


@dataclass(frozen=True)
class StatementLine:
    member_id: UUID
    position: int
    recorded_at: datetime
    kind: str
    reference_id: UUID
    counterparty: str
    minutes: int
    balance_minutes: int
    # What the posting was about, by name (None where it is not a service or a gift).
    service_date: date | None = None
    activity: str | None = None
    team_id: UUID | None = None
    team_name: str | None = None
    counterparty_name: str | None = None


@dataclass(frozen=True)
class LogRecord:
    id: UUID
    volunteer_id: UUID
    team_id: UUID
    service_date: date
    minutes: int
    approved_minutes: int | None
    status: str
    activity: str
    beneficiary: str | None
    note: str | None
    reason: str | None
    logged_by: UUID
    certified_by_recorder: bool | None
    recorded_at: datetime
    updated_at: datetime
    source: str | None
    volunteer_name: str = ""
    team_name: str = ""
    activity_id: UUID | None = None
    pairing_id: UUID | None = None


@dataclass(frozen=True)
class Membership:
    member_id: UUID
    role: str
    since: date
    until: date | None
    accepted: bool


@dataclass(frozen=True)
class TeamRecord:
    id: UUID
    name: str
    community: str
    founded_on: date | None
    members: list[Membership]


@dataclass(frozen=True)
class TeamRank:
    rank: int
    team_id: UUID
    name: str
    community: str
    minutes: int
    volunteers: int
    person_times: int
    sessions: int


@dataclass(frozen=True)
class VolunteerRank:
    rank: int
    member_id: UUID | None  # None: the reader may not see who it is
    name: str
    minutes: int
    person_times: int
    sessions: int


@dataclass(frozen=True)
class RedemptionRecord:
    id: UUID
    member_id: UUID
    team_id: UUID
    service: str
    minutes: int
    status: str
    reason: str | None
    requested_by: UUID
    consent: str
    consented_by: UUID | None
    requested_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TransferRecord:
    id: UUID
    from_member_id: UUID
    to_member_id: UUID
    minutes: int
    note: str | None
    made_by: UUID
    consent: str
    consented_by: UUID | None
    made_at: datetime


@dataclass(frozen=True)
class CredentialRecord:
    id: UUID
    member_id: UUID
    kind: str
    status: str
    reason: str | None
    issued_by: UUID
    issued_by_other: bool
    issued_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MemberName:
    id: UUID
    name: str


@dataclass(frozen=True)
class Me:
    """The signed-in member: who they are, their teams and roles, and their minutes."""

    profile: Profile
    balance: Balance


@dataclass(frozen=True)
class FoundMember:
    """A member found by code or by name: enough to give them minutes, nothing more."""

    id: UUID
    name: str
    code: str


@dataclass(frozen=True)
class AttendeeRecord:
    member_id: UUID
    name: str
    minutes: int
    service_log_id: UUID
    status: str  # the log's: approved, or pending where another must certify it


@dataclass(frozen=True)
class ActivityRecord:
    id: UUID
    team_id: UUID
    team_name: str
    service_date: date
    activity: str
    place: str | None
    beneficiaries: str | None
    recorded_by: UUID
    recorded_at: datetime
    attendees: list[AttendeeRecord]


@dataclass(frozen=True)
class PairingRecord:
    id: UUID
    team_id: UUID
    team_name: str
    community: str
    beneficiary_id: UUID
    beneficiary_name: str
    volunteer_id: UUID | None
    volunteer_name: str | None  # None: the whole team visits
    since: date
    until: date | None
    note: str | None
    last_visit: date | None  # the last day of service logged as a visit, approved or pending
    visits: int  # visits in the period asked about (all time by default)
    minutes: int  # approved minutes of those visits


def _competition_ranks(minutes_in_order: list[int]) -> list[int]:
    """Standard competition ranking: equal minutes share a rank, the next rank skips."""
    ranks: list[int] = []
    for index, minutes in enumerate(minutes_in_order):
        tied = index > 0 and minutes == minutes_in_order[index - 1]
        ranks.append(ranks[-1] if tied else index + 1)
    return ranks


def _page(
    rows: list[T],
    *,
    key: Callable[[T], Any],
    cursor_of: Callable[[T], Any],
    after: Any | None,
    limit: int,
) -> Page[T]:
    """The first `limit` rows in key order after the row whose cursor is `after`."""
    start = None
    if after is not None:
        found = next((row for row in rows if cursor_of(row) == after), None)
        if found is None:
            raise CursorError()
        start = key(found)
    following = (row for row in rows if start is None or key(row) > start)
    chosen = heapq.nsmallest(limit + 1, following, key=key)
    shown = chosen[:limit]
    return Page(shown, cursor_of(shown[-1]) if len(chosen) > limit else None)


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
