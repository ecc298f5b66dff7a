"""Members: registration (with a first token), reading a member, issuing more tokens."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.dependencies import ActorId, Ledger, RequestId
from api.errors import error_responses
from api.schemas import MemberIn, MemberOut, NewMemberOut, TokenOut

router = APIRouter(
    prefix="/members", tags=["members"], responses=error_responses(401, 403, 422, 503)
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
    "/{member_id}",
    responses=error_responses(404),
    summary="Read a member (the member, auditors, admins)",
)
def get_member(member_id: UUID, ledger: Ledger, actor_id: ActorId) -> MemberOut:
    return MemberOut.model_validate(ledger.read_member(actor_id=actor_id, member_id=member_id))


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
