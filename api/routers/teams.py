"""Teams: forming them, listing them and managing who is in them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Caller, Ledger, Projections, RequestId
from api.errors import error_responses
from api.paging import cursor, keyset_page
from api.schemas import MembershipOut, TeamIn, TeamMemberIn, TeamOut, TeamsOut, TeamsQuery
from api.visibility import Viewer
from projections.directory import TeamRow

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
def list_teams(
    ledger: Ledger, actor: Caller, runner: Projections, query: Annotated[TeamsQuery, Query()]
) -> TeamsOut:
    """Teams by name; each as `GET /teams/{id}` shows it: with every current member for
    its coordinators, auditors and admins, and with the caller's own membership for
    anyone else."""

    def key(team: TeamRow) -> tuple[str, str]:
        return team.name, str(team.id)

    with runner.lock:
        directory = runner.directory.state
        viewer = Viewer.of(actor, directory, ledger.today())
        after = query.after
        start = None if after is None else key(cursor(directory.teams.get(after)))
        teams, more = keyset_page(
            (t for t in directory.teams.values() if query.community in (None, t.community)),
            key=key,
            after=start,
            limit=query.limit,
        )
        items = [
            TeamOut(
                id=team.id,
                name=team.name,
                community=team.community,
                founded_on=team.founded_on,
                members=[
                    MembershipOut.model_validate(row)
                    for row in directory.memberships.get(team.id, ())
                    if row.until is None
                    and (viewer.may_see_roster(team.id) or row.member_id == actor.id)
                ],
            )
            for team in teams
        ]
    return TeamsOut(items=items, next_after=teams[-1].id if more else None)


@router.get(
    "/{team_id}",
    responses=error_responses(404),
    summary="Read a team and its current members (any member)",
)
def get_team(team_id: UUID, ledger: Ledger, actor_id: ActorId) -> TeamOut:
    return TeamOut.model_validate(ledger.read_team(actor_id=actor_id, team_id=team_id))


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
