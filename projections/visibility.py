"""Who may read what: the one rule of the read side, for the API, the pages and the CLI.

- Auditors and admins read everything.
- A member reads what concerns them: their profile, balance and statement, the service
  logs they served or logged, the redemptions and gifts they are party to, their own
  credentials' records; an agent they registered (家属代办) reads the same of theirs, on
  the days the agency covers.
- A coordinator also reads the logs and redemptions of the teams they coordinate today,
  and the profile, balance and statement of those teams' members who accepted their
  membership: enrolling someone is not a reason to read their data.
- Rosters are for a team's coordinators (a member sees their own membership).
- Rankings name a member to those who serve in a community the member serves in, unless
  the member chose to appear anonymously; whoever may read the member's data sees the name.

Refusal comes before existence: only those allowed to read a member learn whether the
member exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    FromClause,
    and_,
    bindparam,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)

from projections.base import ID
from projections.members import agents
from projections.teams import acceptances, memberships, teams
from timebank.errors import PermissionDeniedError
from timebank.ledger import Actor

ANONYMOUS = "匿名志愿者"
"""How a ranking shows a member whose name the reader may not see."""


@dataclass(frozen=True)
class Viewer:
    """The reader, as the rule needs them: who, and whether they read everything."""

    id: UUID
    sees_everything: bool

    @classmethod
    def of(cls, actor: Actor) -> Viewer:
        """The caller as this rule sees them: admins and auditors read everything."""
        return cls(actor.id, actor.is_admin or actor.is_auditor)


def covers(
    day: date | ColumnElement[date], stretches: FromClause = memberships
) -> ColumnElement[bool]:
    """A membership stretch that holds on the day (of `stretches`: the memberships or an
    alias of them)."""
    return and_(
        stretches.c.since <= day,
        or_(stretches.c.until.is_(None), stretches.c.until > day),
    )


def coordinated(conn: Connection, viewer: Viewer, day: date) -> frozenset[UUID]:
    """The teams the reader coordinates on the day."""
    return frozenset(conn.execute(_COORDINATED, {"viewer": viewer.id, "day": day}).scalars())


def principals(conn: Connection, viewer: Viewer, day: date) -> frozenset[UUID]:
    """The members the reader acts for as their agent on the day."""
    return frozenset(conn.execute(_PRINCIPALS, {"viewer": viewer.id, "day": day}).scalars())


def coordinated_and_principals(
    conn: Connection, viewer: Viewer, day: date
) -> tuple[frozenset[UUID], frozenset[UUID]]:
    """`coordinated` and `principals` in one query."""
    teams_led: set[UUID] = set()
    acting_for: set[UUID] = set()
    for ident, agency in conn.execute(_BOTH, {"viewer": viewer.id, "day": day}):
        (acting_for if agency else teams_led).add(ident)
    return frozenset(teams_led), frozenset(acting_for)


# Nearly every read asks these two first: built once, their values bound as they run.
_COORDINATED = select(memberships.c.team_id).where(
    memberships.c.member_id == bindparam("viewer", type_=ID),
    memberships.c.role == "coordinator",
    covers(bindparam("day", type_=Date)),
)
_PRINCIPALS = select(agents.c.member_id).where(
    agents.c.agent_id == bindparam("viewer", type_=ID),
    agents.c.since <= bindparam("day", type_=Date),
    or_(agents.c.until.is_(None), agents.c.until > bindparam("day", type_=Date)),
)
_BOTH = union_all(
    _COORDINATED.add_columns(literal(False).label("agency")),
    _PRINCIPALS.add_columns(literal(True).label("agency")),
)


def communities(conn: Connection, member_id: UUID, day: date | None) -> frozenset[str]:
    """The communities of the teams a member serves in on the day (or ever, without one)."""
    query = (
        select(teams.c.community)
        .join(memberships, memberships.c.team_id == teams.c.team_id)
        .where(memberships.c.member_id == member_id)
    )
    if day is not None:
        query = query.where(covers(day))
    return frozenset(conn.execute(query).scalars())


def may_read_member(conn: Connection, viewer: Viewer, member_id: UUID, day: date) -> bool:
    """Their profile, balance and statement."""
    if viewer.sees_everything or viewer.id == member_id:
        return True
    clause = reads_member(viewer.id, literal(member_id, ID), day)
    return bool(conn.execute(select(clause)).scalar())


def reads_member(
    viewer_id: UUID | ColumnElement[UUID],
    member: ColumnElement[UUID],
    day: date | ColumnElement[date],
) -> ColumnElement[bool]:
    """Whether a reader who does not read everything may read the data of the member in a
    column (`may_read_member` for every row of a query at once); the reader and the day
    may be values or bound parameters."""
    agency = (
        exists()
        .where(
            agents.c.member_id == member,
            agents.c.agent_id == viewer_id,
            agents.c.since <= day,
            or_(agents.c.until.is_(None), agents.c.until > day),
        )
        .correlate_except(agents)
    )
    theirs = memberships.alias("theirs")
    mine = memberships.alias("mine")
    looked_after = (
        exists()
        .where(
            theirs.c.member_id == member,
            covers(day, theirs),
            mine.c.team_id == theirs.c.team_id,
            mine.c.member_id == viewer_id,
            mine.c.role == "coordinator",
            covers(day, mine),
            acceptances.c.team_id == theirs.c.team_id,
            acceptances.c.member_id == member,
        )
        .correlate_except(theirs, mine, acceptances)
    )
    return or_(member == viewer_id, agency, looked_after)


def named_in_rankings(
    viewer_id: UUID | ColumnElement[UUID],
    member: ColumnElement[UUID],
    anonymous: ColumnElement[bool],
    day: date | ColumnElement[date],
) -> ColumnElement[bool]:
    """Whether a ranking names the member in a column to a reader who does not read
    everything: the reader may read the member's data, or serves on the day in a
    community the member has served in and the member did not choose to appear
    anonymously."""
    theirs = memberships.alias("theirs")
    mine = memberships.alias("mine")
    their_teams = teams.alias("their_teams")
    my_teams = teams.alias("my_teams")
    fellow = (
        exists()
        .where(
            theirs.c.member_id == member,
            their_teams.c.team_id == theirs.c.team_id,
            my_teams.c.community == their_teams.c.community,
            mine.c.team_id == my_teams.c.team_id,
            mine.c.member_id == viewer_id,
            covers(day, mine),
        )
        .correlate_except(theirs, mine, their_teams, my_teams)
    )
    return or_(reads_member(viewer_id, member, day), and_(not_(anonymous), fellow))


def require_member(conn: Connection, viewer: Viewer, member_id: UUID, day: date) -> None:
    if not may_read_member(conn, viewer, member_id, day):
        raise PermissionDeniedError(
            viewer.id,
            f"read member {member_id}",
            "it is neither them, a member they act for, nor a member of a team they "
            "coordinate who accepted the membership",
        )


def parties_clause(
    viewer: Viewer,
    day_teams: frozenset[UUID],
    acting_for: frozenset[UUID],
    *,
    people: Iterable[ColumnElement[UUID]],
    team: ColumnElement[UUID] | None,
) -> ColumnElement[bool]:
    """The rows of a list the reader may see: everything, or those naming them (or a
    member they act for) in one of `people`, or of a team they coordinate."""
    if viewer.sees_everything:
        return true()
    conditions: list[ColumnElement[bool]] = []
    for column in people:
        conditions.append(column == viewer.id)
        if acting_for:
            conditions.append(column.in_(acting_for))
    if team is not None and day_teams:
        conditions.append(team.in_(day_teams))
    return or_(false(), *conditions)


def may_read_record(
    viewer: Viewer,
    day_teams: frozenset[UUID],
    acting_for: frozenset[UUID],
    *,
    people: Iterable[UUID | None],
    team: UUID | None,
) -> bool:
    """The same rule for one record already read."""
    if viewer.sees_everything:
        return True
    named = {person for person in people if person is not None}
    return bool(
        viewer.id in named or named & acting_for or (team is not None and team in day_teams)
    )


def require_auditor(viewer: Viewer, action: str = "audit the ledger") -> None:
    """The whole ledger (every event, replays, verification) is for auditors and admins."""
    if not viewer.sees_everything:
        raise PermissionDeniedError(viewer.id, action, "only auditors and admins may")
