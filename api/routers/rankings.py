"""Rankings: teams and volunteers by approved minutes in a period (any member)."""

from __future__ import annotations

from typing import Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

from fastapi import APIRouter, Query

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Caller, Ledger, Projections
from api.errors import error_responses
from api.paging import cursor, keyset_page
from api.schemas import (
    TeamRankingsOut,
    TeamRankingsQuery,
    TeamRankOut,
    VolunteerRankingsOut,
    VolunteerRankingsQuery,
    VolunteerRankOut,
)
from api.visibility import ANONYMOUS, Viewer
from projections.directory import Directory
from projections.periods import parse_period
from projections.rankings import TeamRank, VolunteerRank, team_rankings, volunteer_rankings

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/rankings",
    tags=["rankings"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.get("/teams", summary="Rank teams by approved minutes in a period (any member)")
def rank_teams(
    actor_id: ActorId, runner: Projections, query: Annotated[TeamRankingsQuery, Query()]
) -> TeamRankingsOut:
    """Every team in scope, those with no minutes included, with the volunteers credited,
    person-times (人次) and sessions (场次)."""
    chosen = parse_period(query.period)
    with runner.lock:
        ranked = team_rankings(runner.directory.state, chosen, community=query.community)

    def key(row: TeamRank) -> tuple[int, str, str]:
        return -row.minutes, row.name, str(row.team_id)

    by_id = {row.team_id: row for row in ranked}
    start = None if query.after is None else key(cursor(by_id.get(query.after)))
    rows, more = keyset_page(ranked, key=key, after=start, limit=query.limit)
    return TeamRankingsOut(
        period=chosen.name,
        items=[TeamRankOut.model_validate(row) for row in rows],
        next_after=rows[-1].team_id if more else None,
    )


@router.get(
    "/volunteers",
    responses=error_responses(404),
    summary="Rank volunteers by approved minutes in a period (any member)",
)
def rank_volunteers(
    ledger: Ledger,
    actor: Caller,
    runner: Projections,
    query: Annotated[VolunteerRankingsQuery, Query()],
) -> VolunteerRankingsOut:
    """Everyone who has belonged to a team in scope, those with no minutes included. An
    unknown team is 404. Names are shown to members who serve in the same community,
    unless the member chose to be anonymous (they appear as 匿名志愿者, without an id);
    the member, their agent, their coordinators, auditors and admins always see them."""
    chosen = parse_period(query.period)
    if query.team_id is not None:
        ledger.get_team(query.team_id)  # raises NotFoundError for a team the ledger never formed
    today = ledger.today()
    with runner.lock:
        directory = runner.directory.state
        ranked = volunteer_rankings(
            directory, chosen, team_id=query.team_id, community=query.community
        )
        viewer = Viewer.of(actor, directory, today)
        shown = {
            row.member_id: viewer.may_see_name(
                directory, row.member_id, _communities(directory, row.member_id), today
            )
            for row in ranked
        }

    def key(row: VolunteerRank) -> tuple[int, str, str]:
        return -row.minutes, row.name, str(row.member_id)

    def cursor_of(row: VolunteerRank) -> UUID:
        """The row's id, or for a hidden member an id only this caller's pages know."""
        return row.member_id if shown[row.member_id] else _pseudonym(actor.id, row.member_id)

    by_cursor = {cursor_of(row): row for row in ranked}
    start = None if query.after is None else key(cursor(by_cursor.get(query.after)))
    rows, more = keyset_page(ranked, key=key, after=start, limit=query.limit)
    return VolunteerRankingsOut(
        period=chosen.name,
        items=[
            VolunteerRankOut(
                rank=row.rank,
                member_id=row.member_id if shown[row.member_id] else None,
                name=row.name if shown[row.member_id] else ANONYMOUS,
                minutes=row.minutes,
                person_times=row.person_times,
                sessions=row.sessions,
            )
            for row in rows
        ],
        next_after=cursor_of(rows[-1]) if more else None,
    )


def _communities(directory: Directory, member_id: UUID) -> frozenset[str]:
    """The communities a member has served in."""
    return frozenset(
        directory.teams[row.team_id].community for row in directory.by_member.get(member_id, ())
    )


_PSEUDONYMS = uuid5(NAMESPACE_URL, "timebank:ranking-cursor")


def _pseudonym(viewer_id: UUID, member_id: UUID) -> UUID:
    return uuid5(_PSEUDONYMS, f"{viewer_id}:{member_id}")
