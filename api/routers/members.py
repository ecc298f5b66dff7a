"""Members: registration (with a first token), profiles, balances, statements, tokens."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response, status

from api.answers import answered
from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import (
    AgentIn,
    BalanceOut,
    CardIn,
    CardOut,
    CodeQuery,
    FoundMemberOut,
    MemberIn,
    MemberOut,
    MemberProfileOut,
    MemberRecordOut,
    NewMemberOut,
    PositionPage,
    PublicityIn,
    StatementLineOut,
    StatementOut,
    TokenOut,
)

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


@router.get(
    "/lookup",
    responses=error_responses(404),
    summary="Find a member by the code on their card (any member: to give them minutes)",
)
def look_up_member(
    reader: Reads, viewer: ViewerOf, query: Annotated[CodeQuery, Query()]
) -> FoundMemberOut:
    """Their id and name, nothing more. Case, spaces and dashes do not matter, and the
    letters O, I and L read as 0, 1 and 1 (the code has no such letters)."""
    return FoundMemberOut.model_validate(reader.find_by_code(query.code))


_READERS = (
    "the member, their agent, coordinators of their teams who accepted them, auditors, admins"
)


@router.get(
    "/{member_id}",
    responses=error_responses(404),
    summary=f"Read a member's profile ({_READERS})",
)
def get_member(member_id: UUID, reader: Reads, viewer: ViewerOf) -> MemberProfileOut:
    """Who they are, the teams they belong to today with their role, and their star level
    (星级) from lifetime minutes."""
    return MemberProfileOut.model_validate(reader.profile(viewer, member_id))


@router.get(
    "/{member_id}/balance",
    response_model=BalanceOut,
    responses=error_responses(404),
    summary=f"Read a member's minutes ({_READERS})",
)
async def get_balance(
    member_id: UUID, request: Request, reader: Reads, viewer: ViewerOf
) -> Response:
    return await answered(
        request,
        viewer,
        reader.today(),
        lambda: BalanceOut.model_validate(reader.balance(viewer, member_id)),
    )


@router.get(
    "/{member_id}/statement",
    response_model=StatementOut,
    responses=error_responses(404),
    summary=f"Read a member's statement, a page at a time ({_READERS})",
)
async def get_statement(
    member_id: UUID,
    request: Request,
    reader: Reads,
    viewer: ViewerOf,
    page: Annotated[PositionPage, Query()],
) -> Response:
    """Every posting that changed the balance, in log order, with the balance after it.
    Holds are not postings: they show in the balance's `held_minutes`."""

    def read() -> StatementOut:
        lines = reader.statement(viewer, member_id, after=page.after, limit=page.limit)
        return StatementOut(
            member_id=member_id,
            items=[StatementLineOut.model_validate(line) for line in lines.items],
            next_after=lines.next_after,
        )

    return await answered(request, viewer, reader.today(), read)


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


@router.post(
    "/{member_id}/card",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Print a member card (admins; coordinators of a team the member accepted)",
)
def issue_card(
    member_id: UUID,
    ledger: Ledger,
    actor_id: ActorId,
    request_id: RequestId,
    body: Annotated[CardIn | None, Body()] = None,
) -> CardOut:
    """A member card (爱心服务卡) for a member without a phone: a sign-in link (its token)
    and a confirmation code that consents to spending at the counter, both shown here
    only. The card before it stops working. Whoever prints it never takes its code at
    the counter, and auditors see what is spent with its link."""
    card = ledger.issue_card(
        actor_id=actor_id,
        member_id=member_id,
        team_id=body.team_id if body else None,
        request_id=request_id,
    )
    return CardOut(
        member_id=card.member_id,
        card_number=card.card_number,
        code=card.code,
        token=card.token.token,
        credential_id=card.token.credential_id,
    )


@router.post(
    "/{member_id}/agents",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Register an agent who acts for the member (the member; staff with their card code)",
)
def register_agent(
    member_id: UUID, body: AgentIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> MemberRecordOut:
    """家属代办: the agent may then redeem and give the member's minutes for them, accept
    memberships for them and read their balance and statement, on the days the agency
    covers. Each such act records that the agent asked."""
    view = ledger.register_agent(
        actor_id=actor_id,
        member_id=member_id,
        agent_id=body.agent_id,
        since=body.since,
        until=body.until,
        card_code=body.card_code,
        team_id=body.team_id,
        request_id=request_id,
    )
    return MemberRecordOut.model_validate(view)


@router.delete(
    "/{member_id}/agents/{agent_id}",
    responses=error_responses(404, 409),
    summary="End an agency today (the member, the agent, admins)",
)
def end_agent(
    member_id: UUID, agent_id: UUID, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> MemberRecordOut:
    view = ledger.end_agent(
        actor_id=actor_id, member_id=member_id, agent_id=agent_id, request_id=request_id
    )
    return MemberRecordOut.model_validate(view)


@router.post(
    "/{member_id}/publicity",
    responses=error_responses(404, 409),
    summary="Choose whether others see the member's name on honour walls (the member, agent)",
)
def choose_publicity(
    member_id: UUID, body: PublicityIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> MemberRecordOut:
    """Anonymous members are shown to other members as 匿名志愿者 in rankings and on
    honour walls; the member, their agent, their team's coordinators, auditors and admins
    still see the name."""
    view = ledger.choose_publicity(
        actor_id=actor_id, member_id=member_id, anonymous=body.anonymous, request_id=request_id
    )
    return MemberRecordOut.model_validate(view)
