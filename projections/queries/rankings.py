"""Rankings of teams and volunteers for a period, with who may see which name."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import Connection, and_, func, select

from projections.members import members
from projections.periods import Period
from projections.queries.base import ReaderBase
from projections.queries.records import (
    Page,
    TeamRank,
    VolunteerRank,
    _chunks,
    _competition_ranks,
    _page,
    _pseudonym,
)
from projections.rankings import team_tallies, volunteer_tallies
from projections.teams import acceptances, memberships, teams
from projections.visibility import (
    ANONYMOUS,
    Viewer,
    communities,
    coordinated,
    covers,
    principals,
)
from timebank.errors import NotFoundError


class RankingReads(ReaderBase):
    """Reads of the rankings."""

    # Rankings ---------------------------------------------------------------------------

    def team_rankings(
        self,
        viewer: Viewer,
        period: Period,
        *,
        community: str | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[TeamRank]:
        """Every team in scope, those with no minutes included, ranked by minutes; ties
        share a rank (1, 2, 2, 4) and are listed by name."""
        t, tally = teams.c, team_tallies.c
        with self._read() as conn:
            query = select(
                t.team_id,
                t.name,
                t.community,
                func.coalesce(tally.minutes, 0),
                func.coalesce(tally.volunteers, 0),
                func.coalesce(tally.person_times, 0),
                func.coalesce(tally.sessions, 0),
            ).outerjoin(
                team_tallies,
                and_(tally.team_id == t.team_id, tally.period == period.name),
            )
            if community is not None:
                query = query.where(t.community == community)
            rows = conn.execute(query).all()
        ordered = sorted(rows, key=lambda r: (-r[3], r[1], str(r[0])))
        ranked = [
            TeamRank(rank, r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for rank, r in zip(_competition_ranks([r[3] for r in ordered]), ordered, strict=True)
        ]
        return _page(
            ranked,
            key=lambda r: (-r.minutes, r.name, str(r.team_id)),
            cursor_of=lambda r: r.team_id,
            after=after,
            limit=limit,
        )

    def volunteer_rankings(
        self,
        viewer: Viewer,
        period: Period,
        *,
        team_id: UUID | None = None,
        community: str | None = None,
        after: UUID | None = None,
        limit: int = 100,
    ) -> Page[VolunteerRank]:
        """Everyone who has belonged to a team in scope, those with no minutes included.
        Names are shown to readers who serve in a community the member serves in, unless
        the member chose to appear anonymously (匿名志愿者, without an id); the member,
        their agent, their coordinators, auditors and admins always see them."""
        day = self.today()
        with self._read() as conn:
            scope_query = select(teams.c.team_id)
            if team_id is not None:
                scope_query = scope_query.where(teams.c.team_id == team_id)
            if community is not None:
                scope_query = scope_query.where(teams.c.community == community)
            scope = list(conn.execute(scope_query).scalars())
            if (
                team_id is not None
                and not scope
                and (
                    conn.execute(select(teams.c.team_id).where(teams.c.team_id == team_id)).first()
                    is None
                )
            ):
                raise NotFoundError("team", team_id)
            tallies: dict[UUID, list[int]] = {}
            v = volunteer_tallies.c
            for chunk in _chunks(scope):
                query = (
                    select(
                        v.volunteer_id,
                        func.sum(v.minutes),
                        func.sum(v.person_times),
                        func.sum(v.sessions),
                    )
                    .where(v.period == period.name, v.team_id.in_(chunk))
                    .group_by(v.volunteer_id)
                )
                for volunteer, minutes, times, sessions in conn.execute(query):
                    row = tallies.setdefault(volunteer, [0, 0, 0])
                    row[0] += int(minutes)
                    row[1] += int(times)
                    row[2] += int(sessions)
            for chunk in _chunks(scope):
                query = (
                    select(memberships.c.member_id)
                    .where(memberships.c.team_id.in_(chunk))
                    .distinct()
                )
                for member_id in conn.execute(query).scalars():
                    tallies.setdefault(member_id, [0, 0, 0])
            people: dict[UUID, tuple[str, bool]] = {}
            for chunk in _chunks(list(tallies)):
                query = select(members.c.member_id, members.c.name, members.c.anonymous).where(
                    members.c.member_id.in_(chunk)
                )
                for found in conn.execute(query):
                    people[found.member_id] = (self._open(found.name), bool(found.anonymous))
            shown = self._names_shown(conn, viewer, day, people)
        ordered = sorted(
            (m for m in tallies if m in people),
            key=lambda m: (-tallies[m][0], people[m][0], str(m)),
        )
        ranks = _competition_ranks([tallies[m][0] for m in ordered])
        ranked = [
            (
                member_id,
                VolunteerRank(
                    rank,
                    member_id if member_id in shown else None,
                    people[member_id][0] if member_id in shown else ANONYMOUS,
                    *tallies[member_id],
                ),
            )
            for rank, member_id in zip(ranks, ordered, strict=True)
        ]

        def cursor_of(entry: tuple[UUID, VolunteerRank]) -> UUID:
            """The row's id, or for a hidden member an id only this reader's pages know."""
            member_id = entry[0]
            return member_id if member_id in shown else _pseudonym(viewer.id, member_id)

        page = _page(
            ranked,
            key=lambda e: (-e[1].minutes, people[e[0]][0], str(e[0])),
            cursor_of=cursor_of,
            after=after,
            limit=limit,
        )
        return Page([rank for _, rank in page.items], page.next_after)

    def _names_shown(
        self, conn: Connection, viewer: Viewer, day: date, people: dict[UUID, tuple[str, bool]]
    ) -> set[UUID]:
        """Of these members, those whose names the reader sees (see the module's rule)."""
        if viewer.sees_everything:
            return set(people)
        mine = communities(conn, viewer.id, day)
        readable = {viewer.id} | set(principals(conn, viewer, day))
        teams_led = coordinated(conn, viewer, day)
        if teams_led:
            query = (
                select(memberships.c.member_id)
                .join(
                    acceptances,
                    and_(
                        acceptances.c.team_id == memberships.c.team_id,
                        acceptances.c.member_id == memberships.c.member_id,
                    ),
                )
                .where(memberships.c.team_id.in_(teams_led), covers(day))
            )
            readable |= set(conn.execute(query).scalars())
        served: dict[UUID, set[str]] = {}
        if mine:
            for chunk in _chunks(list(people)):
                query = (
                    select(memberships.c.member_id, teams.c.community)
                    .join(teams, teams.c.team_id == memberships.c.team_id)
                    .where(memberships.c.member_id.in_(chunk), teams.c.community.in_(mine))
                )
                for member_id, where in conn.execute(query):
                    served.setdefault(member_id, set()).add(where)
        return {
            member_id
            for member_id, (_, anonymous) in people.items()
            if member_id in readable or (not anonymous and member_id in served)
        }
