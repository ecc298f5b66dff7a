"""Rankings: teams and volunteers by approved minutes in a period (any member)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request

from api.answers import answered
from api.bodies import StrictJSONRoute
from api.dependencies import Reads, ViewerOf
from api.documents.tables import XLSX_TYPE
from api.errors import error_responses
from api.routers.reports import accepted, answer
from api.schemas import (
    TeamRankingsOut,
    TeamRankingsQuery,
    TeamRankOut,
    VolunteerRankingsOut,
    VolunteerRankingsQuery,
    VolunteerRankOut,
)
from api.threads import in_a_worker_thread
from projections.periods import parse_period
from projections.queries import reports

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/rankings",
    tags=["rankings"],
    responses={
        **error_responses(401, 403, 413, 422, 503),
        200: {
            "content": {"text/csv": {}, XLSX_TYPE: {}},
            "description": "A page of the rankings; the whole table as CSV or XLSX with "
            "`format` or `Accept`, at one ledger position (as `/reports` gives it).",
        },
    },
)

Accept = Annotated[str | None, Header(include_in_schema=False)]


def _as_file(chosen: str | None, accept: str | None) -> bool:
    return (chosen or accepted(accept)) in ("csv", "xlsx")


@router.get(
    "/teams",
    response_model=TeamRankingsOut,
    summary="Rank teams by approved minutes in a period (any member)",
)
async def rank_teams(
    request: Request,
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[TeamRankingsQuery, Query()],
    accept: Accept = None,
) -> Any:
    """Every team in scope, those with no minutes included, with the volunteers credited,
    person-times (人次) and sessions (场次)."""
    chosen = parse_period(query.period)
    if _as_file(query.format, accept):

        def report() -> Any:
            table = reports.team_rankings(reader, viewer, chosen, community=query.community)
            return answer(table, query.format, accept)

        return await in_a_worker_thread(report)

    def read() -> TeamRankingsOut:
        page = reader.team_rankings(
            viewer, chosen, community=query.community, after=query.after, limit=query.limit
        )
        return TeamRankingsOut(
            period=chosen.name,
            items=[TeamRankOut.model_validate(row) for row in page.items],
            next_after=page.next_after,
        )

    return await answered(request, viewer, reader.today(), read)


@router.get(
    "/volunteers",
    response_model=VolunteerRankingsOut,
    responses=error_responses(404),
    summary="Rank volunteers by approved minutes in a period (any member)",
)
async def rank_volunteers(
    request: Request,
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[VolunteerRankingsQuery, Query()],
    accept: Accept = None,
) -> Any:
    """Everyone who has belonged to a team in scope, those with no minutes included. An
    unknown team is 404. Names are shown to members who serve in the same community,
    unless the member chose to be anonymous (they appear as 匿名志愿者, without an id);
    the member, their agent, their coordinators, auditors and admins always see them."""
    chosen = parse_period(query.period)
    if _as_file(query.format, accept):

        def report() -> Any:
            table = reports.volunteer_rankings(
                reader, viewer, chosen, team_id=query.team_id, community=query.community
            )
            return answer(table, query.format, accept)

        return await in_a_worker_thread(report)

    def read() -> VolunteerRankingsOut:
        page = reader.volunteer_rankings(
            viewer,
            chosen,
            team_id=query.team_id,
            community=query.community,
            after=query.after,
            limit=query.limit,
        )
        return VolunteerRankingsOut(
            period=chosen.name,
            items=[VolunteerRankOut.model_validate(row) for row in page.items],
            next_after=page.next_after,
        )

    return await answered(request, viewer, reader.today(), read)
