"""Who and what the ledger knows: members, teams and their memberships, service logs.

A fold of the ledger's events into plain rows, for listings, member profiles and the
rankings. Rows are mutable slotted dataclasses owned by the fold.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from timebank.accounts import Account
from timebank.members import Member
from timebank.service_logs import ServiceLog
from timebank.teams import Team


@dataclass(slots=True)
class MemberRow:
    id: UUID
    name: str
    roles: list[str]
    birth_date: date | None
    registered_at: datetime
    anonymous: bool = False  # on honour walls and rankings others see
    # Agents acting for the member (家属代办): (agent, since, until or None).
    agents: list[tuple[UUID, date, date | None]] = field(default_factory=list)

    def has_agent_on(self, agent_id: UUID, day: date) -> bool:
        return any(
            a == agent_id and since <= day and (until is None or day < until)
            for a, since, until in self.agents
        )


@dataclass(slots=True)
class TeamRow:
    id: UUID
    name: str
    community: str
    formed_at: datetime
    founded_on: date | None = None


@dataclass(slots=True)
class MembershipRow:
    """One stretch of a member in a team: from `since`, up to (not on) `until`; accepted
    once the member agreed to it (their coordinators then see their balance)."""

    team_id: UUID
    member_id: UUID
    role: str
    since: date
    until: date | None
    accepted: bool = True

    def covers(self, day: date) -> bool:
        """The membership holds on the day: from `since`, up to (not on) `until`."""
        return self.since <= day and (self.until is None or day < self.until)

    def holds(self, on: date | None) -> bool:
        """On a day, or (without one) as it stands: not yet ended."""
        return self.until is None if on is None else self.covers(on)


@dataclass(slots=True)
class LogRow:
    id: UUID
    volunteer_id: UUID
    team_id: UUID
    service_date: date
    minutes: int
    activity: str
    beneficiary: str | None
    note: str | None
    logged_by: UUID
    recorded_at: datetime
    status: str = "pending"
    approved_minutes: int | None = None
    reason: str | None = None
    reviewed_by: UUID | None = None
    reviewed_at: datetime | None = None
    source: str | None = None  # where the record came from, e.g. an import of paper records
    certified_by_recorder: bool | None = None  # approved by whoever logged it for them


@dataclass
class Directory:
    members: dict[UUID, MemberRow] = field(default_factory=dict)
    teams: dict[UUID, TeamRow] = field(default_factory=dict)
    memberships: dict[UUID, list[MembershipRow]] = field(default_factory=dict)  # by team
    logs: dict[UUID, LogRow] = field(default_factory=dict)  # in the order they were logged
    # The same membership rows by member, so a caller's teams are found without a scan.
    by_member: dict[UUID, list[MembershipRow]] = field(default_factory=dict)

    # Each service log row names members, a team, a day and an activity that many other
    # rows name too: rows share one object for each (`shared`), rather than each keeping the
    # copy its event was decoded into. A million-event ledger fits in memory this way.
    _days: dict[date, date] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, ident: UUID) -> UUID:
        """The directory's own object for a member's or a team's id, where it knows one."""
        row = self.members.get(ident) or self.teams.get(ident)
        return ident if row is None else row.id

    def shared_day(self, day: date) -> date:
        return self._days.setdefault(day, day)

    def add_membership(self, row: MembershipRow) -> None:
        self.memberships.setdefault(row.team_id, []).append(row)
        self.by_member.setdefault(row.member_id, []).append(row)

    def teams_of(self, member_id: UUID, on: date | None = None) -> list[MembershipRow]:
        """The member's memberships on a day (or not yet ended), by team name."""
        rows = [row for row in self.by_member.get(member_id, ()) if row.holds(on)]
        return sorted(rows, key=lambda row: (self.teams[row.team_id].name, str(row.team_id)))

    def coordinated_by(self, member_id: UUID, on: date | None = None) -> frozenset[UUID]:
        """The teams the member coordinates on a day (or as it stands)."""
        return frozenset(
            row.team_id
            for row in self.by_member.get(member_id, ())
            if row.role == "coordinator" and row.holds(on)
        )

    def coordinates(self, member_id: UUID, team_id: UUID, on: date | None = None) -> bool:
        return team_id in self.coordinated_by(member_id, on)


def apply(state: Directory, event: AggregateEvent) -> Directory:
    """Fold one event into the directory; events it does not list pass through."""
    match event:  # service logs first: most of any ledger's events
        case Account.Event():  # a third of them: none names anything listed here
            pass
        case ServiceLog.Logged():
            state.logs[event.originator_id] = LogRow(
                id=event.originator_id,
                volunteer_id=state.shared(event.volunteer_id),
                team_id=state.shared(event.team_id),
                service_date=state.shared_day(event.service_date),
                minutes=event.minutes,
                activity=sys.intern(event.activity),
                beneficiary=event.beneficiary,
                note=event.note,
                logged_by=state.shared(event.actor_id),
                recorded_at=event.timestamp,
                source=None if event.source is None else sys.intern(event.source),
            )
        case ServiceLog.Approved(minutes=minutes, reason=reason, certified_by_recorder=certified):
            log = _reviewed(state, event, "approved")
            log.approved_minutes = minutes
            log.reason = reason
            log.certified_by_recorder = certified
        case ServiceLog.Rejected(reason=reason):
            _reviewed(state, event, "rejected").reason = reason
        case ServiceLog.Reversed(reason=reason):
            _reviewed(state, event, "reversed").reason = reason
        case Member.Registered(name=name, roles=roles, birth_date=birth_date):
            state.members[event.originator_id] = MemberRow(
                event.originator_id, name, sorted(roles), birth_date, event.timestamp
            )
        case Member.AgentRegistered(agent_id=agent_id, since=since, until=until):
            member = state.members[event.originator_id]
            member.agents = [*member.agents, (agent_id, since, until)]
        case Member.AgentEnded(agent_id=agent_id, effective_date=day):
            member = state.members[event.originator_id]
            member.agents = [
                (a, since, max(since, day))
                if a == agent_id and (until is None or until > day)
                else (a, since, until)
                for a, since, until in member.agents
            ]
        case Member.PublicityChosen(anonymous=anonymous):
            state.members[event.originator_id].anonymous = anonymous
        case Member.RoleGranted(role=role):
            member = state.members[event.originator_id]
            member.roles = sorted({*member.roles, role})
        case Member.RoleRevoked(role=role):
            member = state.members[event.originator_id]
            member.roles = sorted(set(member.roles) - {role})
        case Team.Formed(name=name, community=community, founded_on=founded_on):
            state.teams[event.originator_id] = TeamRow(
                event.originator_id, name, community, event.timestamp, founded_on
            )
            state.memberships[event.originator_id] = []
        case Team.MemberJoined(
            member_id=member_id, role=role, effective_date=since, accepted=accepted
        ):
            team_id = event.originator_id
            before = _accepted(state, team_id, member_id)
            _close(state, team_id, member_id, since)
            state.add_membership(
                MembershipRow(team_id, member_id, role, since, None, accepted or before)
            )
        case Team.MembershipAccepted(member_id=member_id):
            for row in state.by_member.get(member_id, ()):
                if row.team_id == event.originator_id and row.until is None:
                    row.accepted = True
        case Team.MemberLeft(member_id=member_id, effective_date=until):
            for row in state.by_member.get(member_id, ()):
                if row.team_id == event.originator_id:
                    row.accepted = False
                    if row.until is None or row.until > until:
                        row.until = max(row.since, until)
    return state


def _accepted(state: Directory, team_id: UUID, member_id: UUID) -> bool:
    """The member's open stretch in the team, if any, was accepted (a role change keeps it)."""
    return any(
        row.team_id == team_id and row.until is None and row.accepted
        for row in state.by_member.get(member_id, ())
    )


def _reviewed(state: Directory, event: AggregateEvent, status: str) -> LogRow:
    log = state.logs[event.originator_id]
    log.status = status
    reviewer = getattr(event, "actor_id", None)
    log.reviewed_by = None if reviewer is None else state.shared(reviewer)
    log.reviewed_at = event.timestamp
    return log


def _close(state: Directory, team_id: UUID, member_id: UUID, until: date) -> None:
    for row in state.by_member.get(member_id, ()):
        if row.team_id == team_id and row.until is None:
            row.until = until
