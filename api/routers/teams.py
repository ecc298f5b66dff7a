"""Teams: forming them, listing them and managing who is in them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import TeamIn, TeamMemberIn, TeamOut, TeamsOut, TeamsQuery

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/teams",
    tags=["teams"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
    summary="Form a team (admins)",
)
def form_team(body: TeamIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId) -> TeamOut:
    view = ledger.form_team(
        actor_id=actor_id,
        name=body.name,
        community=body.community,
        founded_on=body.founded_on,
        request_id=request_id,
    )
    return TeamOut.model_validate(view)


@router.get("", summary="List teams, a page at a time (any member; rosters for coordinators)")
def list_teams(reader: Reads, viewer: ViewerOf, query: Annotated[TeamsQuery, Query()]) -> TeamsOut:
    """Teams by name; each as `GET /teams/{id}` shows it: with every current member for
    its coordinators, auditors and admins, and with the caller's own membership for
    anyone else."""
    page = reader.teams(viewer, community=query.community, after=query.after, limit=query.limit)
    return TeamsOut(
        items=[TeamOut.model_validate(team) for team in page.items], next_after=page.next_after
    )


@router.get(
    "/{team_id}",
    responses=error_responses(404),
    summary="Read a team (any member) and its current members (its coordinators)",
)
def get_team(team_id: UUID, reader: Reads, viewer: ViewerOf) -> TeamOut:
    return TeamOut.model_validate(reader.team(viewer, team_id))


@router.post(
    "/{team_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary=(
        "Add a member to a team (admins, the team's coordinators), or appoint a "
        "coordinator or change their role (admins)"
    ),
)
def add_team_member(
    team_id: UUID, body: TeamMemberIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> TeamOut:
    """Adding a current member with the role they have is 409 invalid_state. The member
    accepts the membership afterwards (`POST .../accept`)."""
    view = ledger.add_team_member(
        actor_id=actor_id,
        team_id=team_id,
        member_id=body.member_id,
        role=body.role,
        effective_date=body.effective_date,
        request_id=request_id,
    )
    return TeamOut.model_validate(view)


@router.post(
    "/{team_id}/members/{member_id}/accept",
    responses=error_responses(404, 409),
    summary="Accept a membership (the member, their agent)",
)
def accept_membership(
    team_id: UUID, member_id: UUID, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> TeamOut:
    """Only once the member has accepted do the team's coordinators see their balance and
    statement: enrolling someone is not a reason to read their data."""
    view = ledger.accept_membership(
        actor_id=actor_id, team_id=team_id, member_id=member_id, request_id=request_id
    )
    return TeamOut.model_validate(view)


@router.delete(
    "/{team_id}/members/{member_id}",
    responses=error_responses(404, 409),
    summary="End a membership today (admins; the team's coordinators for volunteers)",
)
def remove_team_member(
    team_id: UUID, member_id: UUID, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> TeamOut:
    """The team keeps the membership's history; ending it again is 409 invalid_state."""
    view = ledger.remove_team_member(
        actor_id=actor_id, team_id=team_id, member_id=member_id, request_id=request_id
    )
    return TeamOut.model_validate(view)
