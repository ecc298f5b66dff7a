"""Rankings: teams and volunteers by approved minutes in a period (any member)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Ledger, Projections
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
    actor_id: ActorId,
    runner: Projections,
    query: Annotated[VolunteerRankingsQuery, Query()],
) -> VolunteerRankingsOut:
    """Everyone who has belonged to a team in scope, those with no minutes included. An
    unknown team is 404."""
    chosen = parse_period(query.period)
    if query.team_id is not None:
        ledger.get_team(query.team_id)  # raises NotFoundError for a team the ledger never formed
    with runner.lock:
        ranked = volunteer_rankings(
            runner.directory.state, chosen, team_id=query.team_id, community=query.community
        )

    def key(row: VolunteerRank) -> tuple[int, str, str]:
        return -row.minutes, row.name, str(row.member_id)

    by_id = {row.member_id: row for row in ranked}
    start = None if query.after is None else key(cursor(by_id.get(query.after)))
    rows, more = keyset_page(ranked, key=key, after=start, limit=query.limit)
    return VolunteerRankingsOut(
        period=chosen.name,
        items=[VolunteerRankOut.model_validate(row) for row in rows],
        next_after=rows[-1].member_id if more else None,
    )
