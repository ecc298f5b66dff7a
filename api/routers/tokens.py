"""Tokens: reading a token's record and revoking it (its member, or an admin)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, CredentialId, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import CredentialOut, TokenOut
from timebank.errors import PermissionDeniedError

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/tokens",
    tags=["tokens"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "/rotate",
    status_code=201,
    responses=error_responses(409),
    summary="Exchange the token signed in with for a new one (any member)",
)
def rotate_token(
    ledger: Ledger, actor_id: ActorId, credential_id: CredentialId, request_id: RequestId
) -> TokenOut:
    """The token this request was signed in with stops working, and a new one, issued by
    the member themself, takes its place: a token someone else issued (at registration,
    on a printed card) is then known to nobody but the member."""
    if credential_id is None:
        raise PermissionDeniedError(
            actor_id, "rotate a token", "the bootstrap admin token is set in the configuration"
        )
    issued = ledger.rotate_token(
        actor_id=actor_id, credential_id=credential_id, request_id=request_id
    )
    return TokenOut.model_validate(issued)


@router.get(
    "/{credential_id}",
    responses=error_responses(404),
    summary="Read a token's record, never the token (its member, auditors, admins)",
)
def get_token(credential_id: UUID, reader: Reads, viewer: ViewerOf) -> CredentialOut:
    return CredentialOut.model_validate(reader.credential(viewer, credential_id))


@router.delete(
    "/{credential_id}",
    responses=error_responses(404, 409),
    summary="Revoke a token (its member, admins)",
)
def revoke_token(
    credential_id: UUID, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> CredentialOut:
    """The token stops working at once; revoking it again is 409 invalid_state."""
    view = ledger.revoke_token(
        actor_id=actor_id, credential_id=credential_id, request_id=request_id
    )
    return CredentialOut.model_validate(view)
