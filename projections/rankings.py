"""Team and volunteer rankings for a period, from the directory's service logs.

Minutes are approved minutes net of reversals, attributed to the service date, so a late
approval or a reversal changes the period the service belongs to. Person-times (人次) count
approved, unreversed logs; sessions (场次) count distinct service date and activity pairs
among them. Ties share a rank (1, 2, 2, 4) and are listed by name in code-point order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from projections.directory import Directory, LogRow
from projections.periods import Period


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
    member_id: UUID
    name: str
    minutes: int
    person_times: int
    sessions: int


@dataclass
class _Tally:
    minutes: int = 0
    person_times: int = 0
    volunteers: set[UUID] = field(default_factory=set)
    sessions: set[tuple[date, str]] = field(default_factory=set)

    def add(self, log: LogRow) -> None:
        self.minutes += log.approved_minutes or 0
        self.person_times += 1
        self.volunteers.add(log.volunteer_id)
        self.sessions.add((log.service_date, log.activity))


def team_rankings(
    directory: Directory, period: Period, *, community: str | None = None
) -> list[TeamRank]:
    """Every team in scope, zero included, ranked by minutes."""
    teams = [t for t in directory.teams.values() if community is None or t.community == community]
    tallies = {team.id: _Tally() for team in teams}
    for log in _credited(directory.logs.values(), period):
        if (tally := tallies.get(log.team_id)) is not None:
            tally.add(log)
    ordered = sorted(teams, key=lambda t: (-tallies[t.id].minutes, t.name, str(t.id)))
    ranks = _competition_ranks([tallies[t.id].minutes for t in ordered])
    return [
        TeamRank(
            rank=rank,
            team_id=team.id,
            name=team.name,
            community=team.community,
            minutes=tallies[team.id].minutes,
            volunteers=len(tallies[team.id].volunteers),
            person_times=tallies[team.id].person_times,
            sessions=len(tallies[team.id].sessions),
        )
        for rank, team in zip(ranks, ordered, strict=True)
    ]


def volunteer_rankings(
    directory: Directory,
    period: Period,
    *,
    team_id: UUID | None = None,
    community: str | None = None,
) -> list[VolunteerRank]:
    """Every member who has belonged to a team in scope, zero included, ranked by minutes."""
    scope = {
        team.id
        for team in directory.teams.values()
        if (team_id is None or team.id == team_id)
        and (community is None or team.community == community)
    }
    tallies: dict[UUID, _Tally] = {
        row.member_id: _Tally()
        for team in scope
        for row in directory.memberships.get(team, ())
        if row.member_id in directory.members
    }
    for log in _credited(directory.logs.values(), period):
        if log.team_id in scope:
            tallies.setdefault(log.volunteer_id, _Tally()).add(log)
    members = [directory.members[m] for m in tallies if m in directory.members]
    ordered = sorted(members, key=lambda m: (-tallies[m.id].minutes, m.name, str(m.id)))
    ranks = _competition_ranks([tallies[m.id].minutes for m in ordered])
    return [
        VolunteerRank(
            rank=rank,
            member_id=member.id,
            name=member.name,
            minutes=tallies[member.id].minutes,
            person_times=tallies[member.id].person_times,
            sessions=len(tallies[member.id].sessions),
        )
        for rank, member in zip(ranks, ordered, strict=True)
    ]


def _credited(logs: Iterable[LogRow], period: Period) -> Iterable[LogRow]:
    return (log for log in logs if log.status == "approved" and period.contains(log.service_date))


def _competition_ranks(minutes_in_order: list[int]) -> list[int]:
    """Standard competition ranking: equal minutes share a rank, the next rank skips."""
    ranks: list[int] = []
    for index, minutes in enumerate(minutes_in_order):
        tied = index > 0 and minutes == minutes_in_order[index - 1]
        ranks.append(ranks[-1] if tied else index + 1)
    return ranks
