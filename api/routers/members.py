"""Members: registration (with a first token), profiles, balances, statements, tokens."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, AppSettings, Ledger, Projections, ReadableMember, RequestId
from api.errors import error_responses
from api.schemas import (
    BalanceOut,
    MemberIn,
    MemberOut,
    MemberProfileOut,
    MemberTeamOut,
    NewMemberOut,
    PositionPage,
    StatementLineOut,
    StatementOut,
    TokenOut,
)
from projections.balances import MemberMinutes
from projections.stars import star_level

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/members",
    tags=["members"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
    summary="Register a member (admins)",
)
def register_member(
    body: MemberIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> NewMemberOut:
    """Registers a member, opens their account and issues their first token, all at
    once. The token is shown in this answer only (and in the answer to a repeat with the
    same Idempotency-Key); the ledger keeps nothing but its digest."""
    registered = ledger.register_member_with_token(
        actor_id=actor_id,
        name=body.name,
        birth_date=body.birth_date,
        roles=body.roles,
        request_id=request_id,
    )
    member = MemberOut.model_validate(registered.member)
    return NewMemberOut(
        **member.model_dump(),
        token=registered.token.token,
        credential_id=registered.token.credential_id,
    )


_READERS = "the member, coordinators of their teams, auditors, admins"


@router.get(
    "/{member_id}",
    responses=error_responses(404),
    summary=f"Read a member's profile ({_READERS})",
)
async def get_member(
    member: ReadableMember, ledger: Ledger, runner: Projections, settings: AppSettings
) -> MemberProfileOut:
    """Who they are, the teams they belong to today with their role, and their star level
    (星级) from lifetime minutes."""
    today = ledger.today()
    with runner.lock:
        directory = runner.directory.state
        teams = [
            MemberTeamOut(
                team_id=row.team_id,
                name=directory.teams[row.team_id].name,
                community=directory.teams[row.team_id].community,
                role=row.role,
                since=row.since,
            )
            for row in directory.teams_of(member.id, today)
        ]
        lifetime = runner.balances.state.members.get(member.id, MemberMinutes()).earned
    return MemberProfileOut(
        id=member.id,
        name=member.name,
        roles=list(member.roles),
        registered_at=member.registered_at,
        teams=teams,
        star_level=star_level(lifetime, settings.ladder()),
        lifetime_minutes=lifetime,
    )


@router.get(
    "/{member_id}/balance",
    responses=error_responses(404),
    summary=f"Read a member's minutes ({_READERS})",
)
async def get_balance(member: ReadableMember, runner: Projections) -> BalanceOut:
    with runner.lock:
        minutes = runner.balances.state.members.get(member.id, MemberMinutes())
        return BalanceOut(
            member_id=member.id,
            pending_minutes=minutes.pending,
            earned_minutes=minutes.earned,
            redeemed_minutes=minutes.redeemed,
            held_minutes=minutes.held,
            received_minutes=minutes.received,
            given_minutes=minutes.given,
            balance_minutes=minutes.balance,
            available_minutes=minutes.available,
        )


@router.get(
    "/{member_id}/statement",
    responses=error_responses(404),
    summary=f"Read a member's statement, a page at a time ({_READERS})",
)
def get_statement(
    member: ReadableMember, runner: Projections, page: Annotated[PositionPage, Query()]
) -> StatementOut:
    """Every posting that changed the balance, in log order, with the balance after it.
    Holds are not postings: they show in the balance's `held_minutes`."""
    lines = runner.store.statement(member.id, after=page.after, limit=page.limit + 1)
    shown = lines[: page.limit]
    return StatementOut(
        member_id=member.id,
        items=[StatementLineOut.model_validate(line) for line in shown],
        next_after=shown[-1].position if len(lines) > page.limit else None,
    )


@router.post(
    "/{member_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Issue a member a new token (admins)",
)
def issue_token(
    member_id: UUID, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> TokenOut:
    """For a lost phone or a second device; earlier tokens keep working until revoked."""
    issued = ledger.issue_token(actor_id=actor_id, member_id=member_id, request_id=request_id)
    return TokenOut.model_validate(issued)
