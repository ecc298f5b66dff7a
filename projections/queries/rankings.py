"""Rankings of teams and volunteers for a period, with who may see which name."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Integer,
    Select,
    String,
    Subquery,
    Text,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from projections.base import ID
from projections.members import members
from projections.periods import Period
from projections.queries import pseudonyms
from projections.queries.base import ReaderBase
from projections.queries.records import (
    CursorError,
    Page,
    TeamRank,
    VolunteerRank,
    _competition_ranks,
    _page,
)
from projections.rankings import team_tallies, volunteer_tallies
from projections.teams import memberships, teams
from projections.visibility import ANONYMOUS, Viewer, named_in_rankings
from timebank.errors import NotFoundError

_DRIFT = 64
"""How far a hidden row's place among its ties may move between two pages (rows entering
or leaving its tie before it) and its cursor still be found."""


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
        share a rank (1, 2, 2, 4) and are listed by name. A community has tens or hundreds
        of teams, read in one pass of the period's team tallies, so they are ordered here:
        by name in code-point order, which no database's collation promises."""
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
        """Everyone who has belonged to a team in scope, those with no minutes included,
        ranked by minutes; ties share a rank (1, 2, 2, 4) and are listed by member id.
        Names are shown to readers who serve in a community the member serves in, unless
        the member chose to appear anonymously (匿名志愿者, without an id); the member,
        their agent, their coordinators, auditors and admins always see them.

        The database sums, orders and pages (names may be sealed, so the tie-break is the
        id, which it can order); only the page's names are opened and checked against the
        rule. A page after the first counts the rows before it for its ranks. A hidden
        member's row pages on with a cursor that does not name them."""
        day = self.today()
        with self._read() as conn:
            if team_id is not None:
                found = select(teams.c.team_id).where(teams.c.team_id == team_id)
                if conn.execute(found).first() is None:
                    raise NotFoundError("team", team_id)
            scope = _scope(team_id, community)
            start: tuple[int, UUID] | None = None
            if after is not None:
                start = self._resolve(conn, viewer, day, (period, scope), after)
            query = _page_query(
                (team_id is not None, community is not None),
                start is not None,
                viewer.sees_everything,
            )
            rows = conn.execute(
                query,
                {
                    "period": period.name,
                    "team_id": team_id,
                    "community": community,
                    "after_minutes": None if start is None else start[0],
                    "after_member": None if start is None else start[1],
                    "viewer": viewer.id,
                    "day": day,
                    "limit": limit + 1,
                },
            ).all()
            shown_rows = rows[:limit]
            minutes = [int(row.minutes) for row in shown_rows]
            before = None if start is None else (_volunteer_totals(period.name, scope), start)
            ranks, places = _ranks(conn, minutes, before)
        items = [
            VolunteerRank(
                rank,
                row.member_id if row.shown else None,
                self._open(row.name) if row.shown else ANONYMOUS,
                int(row.minutes),
                int(row.person_times),
                int(row.sessions),
            )
            for rank, row in zip(ranks, shown_rows, strict=True)
        ]
        if len(rows) <= limit:
            return Page(items, None)
        last = shown_rows[-1]
        cursor = (
            last.member_id
            if last.shown
            else pseudonyms.pseudonym(
                viewer.id, last.member_id, int(last.minutes), places[-1] - ranks[-1] + 1
            )
        )
        return Page(items, cursor)

    def _resolve(
        self,
        conn: Connection,
        viewer: Viewer,
        day: date,
        ranking: tuple[Period, Select[tuple[UUID]] | None],
        after: UUID,
    ) -> tuple[int, UUID]:
        """The (minutes, member id) a page starts after: a row the reader sees by id, or a
        hidden row by the cursor its page gave this reader. An id the reader may not see is
        refused like an unknown one, so that a cursor never tells where a hidden member
        stands."""
        period, scope = ranking
        alone = _volunteer_totals(period.name, scope, only=after)
        query = select(alone.c.minutes).join(members, members.c.member_id == alone.c.member_id)
        if not viewer.sees_everything:
            query = query.where(
                named_in_rankings(viewer.id, alone.c.member_id, members.c.anonymous, day)
            )
        found = conn.execute(query).scalar()
        if found is not None:
            return int(found), after
        place = pseudonyms.place(after)
        if place is not None:
            minutes, tie, tag = place
            ranked = _volunteer_totals(period.name, scope)
            nearby = (
                select(ranked.c.member_id)
                .where(ranked.c.minutes == minutes)
                .order_by(ranked.c.member_id)
                .offset(max(0, tie - 1 - _DRIFT))
                .limit(2 * _DRIFT + 1)
            )
            for member_id in conn.execute(nearby).scalars():
                if pseudonyms.tag(viewer.id, member_id) == tag:
                    return minutes, member_id
        raise CursorError()


def _scope(
    team_id: UUID | BindParameter[UUID] | None, community: str | BindParameter[str] | None
) -> Select[tuple[UUID]] | None:
    """The teams a ranking is of: one team, a community's, or (None) every team."""
    if team_id is None and community is None:
        return None
    scope = select(teams.c.team_id)
    if team_id is not None:
        scope = scope.where(teams.c.team_id == team_id)
    if community is not None:
        scope = scope.where(teams.c.community == community)
    return scope


@cache
def _page_query(scoped: tuple[bool, bool], paged: bool, everything: bool) -> Select[Any]:
    """A page of the volunteer rankings with, for each row, whether the reader sees the
    member's name: built once for each form a request takes (scoped to a team, to a
    community; after a row; for a reader who sees every name), its values bound as it
    runs (period, team_id, community, after_minutes, after_member, viewer, day, limit).
    The rule is asked of the page's rows only, in the query that reads them."""
    ranked = _volunteer_totals(
        bindparam("period", type_=String),
        _scope(
            bindparam("team_id", type_=ID) if scoped[0] else None,
            bindparam("community", type_=Text) if scoped[1] else None,
        ),
    )
    query = select(ranked)
    if paged:
        query = query.where(
            _following(
                ranked,
                bindparam("after_minutes", type_=BigInteger),
                bindparam("after_member", type_=ID),
            )
        )
    page = (
        query.order_by(ranked.c.minutes.desc(), ranked.c.member_id)
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    shown = (
        true()
        if everything
        else named_in_rankings(
            bindparam("viewer", type_=ID),
            page.c.member_id,
            members.c.anonymous,
            bindparam("day", type_=Date),
        )
    )
    return (
        select(page, members.c.name, shown.label("shown"))
        .join(members, members.c.member_id == page.c.member_id)
        .order_by(page.c.minutes.desc(), page.c.member_id)
    )


def _volunteer_totals(
    period: str | BindParameter[str],
    scope: Select[tuple[UUID]] | None,
    *,
    only: UUID | None = None,
) -> Subquery:
    """Every member of a team in scope (every team, without one) or credited there in the
    period, with their minutes, person-times and sessions there: one grouped read of the
    period's tallies and the memberships (or, with `only`, of that member's rows alone).
    Names are joined to the rows read, not to the whole ranking."""
    v, m = volunteer_tallies.c, memberships.c
    credited = select(
        v.volunteer_id.label("member_id"),
        v.minutes.label("minutes"),
        v.person_times.label("person_times"),
        v.sessions.label("sessions"),
    ).where(v.period == period)
    enrolled = select(
        m.member_id,
        literal(0, Integer).label("minutes"),
        literal(0, Integer).label("person_times"),
        literal(0, Integer).label("sessions"),
    )
    if scope is not None:
        credited = credited.where(v.team_id.in_(scope.scalar_subquery()))
        enrolled = enrolled.where(m.team_id.in_(scope.scalar_subquery()))
    if only is not None:
        credited = credited.where(v.volunteer_id == only)
        enrolled = enrolled.where(m.member_id == only)
    both = union_all(credited, enrolled).subquery("credited")
    return (
        select(
            both.c.member_id,
            func.sum(both.c.minutes).label("minutes"),
            func.sum(both.c.person_times).label("person_times"),
            func.sum(both.c.sessions).label("sessions"),
        )
        .group_by(both.c.member_id)
        .subquery("ranked")
    )


def _following(
    ranked: Subquery,
    minutes: int | BindParameter[int],
    member_id: UUID | BindParameter[UUID],
) -> ColumnElement[bool]:
    """The rows after (minutes, member id) in the ranking's order."""
    return or_(
        ranked.c.minutes < minutes,
        and_(ranked.c.minutes == minutes, ranked.c.member_id > member_id),
    )


def _ranks(
    conn: Connection, minutes: list[int], following: tuple[Subquery, tuple[int, UUID]] | None
) -> tuple[list[int], list[int]]:
    """The competition ranks and the places (from 1) of a page's rows, whose minutes are
    given in order, the page following a row of a ranking (None: the first page). A page after
    the first counts, in one pass, the rows before it and those with more minutes than its
    first row; within the page, a row ties with the one before it or ranks at its place."""
    if not minutes:
        return [], []
    first_place, rank = 1, 1
    if following is not None:
        ranked, start = following
        before, higher = conn.execute(
            select(
                func.count(),
                func.count().filter(ranked.c.minutes > minutes[0]),
            ).where(~_following(ranked, *start))
        ).one()
        first_place, rank = int(before) + 1, int(higher) + 1
    ranks, places = [], []
    for offset, here in enumerate(minutes):
        place = first_place + offset
        if offset and here != minutes[offset - 1]:
            rank = place
        ranks.append(rank)
        places.append(place)
    return ranks, places
