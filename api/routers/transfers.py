"""Transfers (转赠): a member gives minutes to another member, at once."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, CredentialId, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import TransferIn, TransferOut

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/transfers",
    tags=["transfers"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Give minutes from one's own available minutes (or as a member's agent)",
)
def make_transfer(
    body: TransferIn,
    ledger: Ledger,
    actor_id: ActorId,
    credential_id: CredentialId,
    request_id: RequestId,
) -> TransferOut:
    """Minutes given on a member's behalf (by their agent, or by an admin at the counter
    with the member's card code) never go to whoever asks."""
    view = ledger.transfer(
        actor_id=actor_id,
        to_member_id=body.to_member_id,
        minutes=body.minutes,
        note=body.note,
        from_member_id=body.from_member_id,
        card_code=body.card_code,
        credential_id=credential_id,
        request_id=request_id,
    )
    return TransferOut.model_validate(view)


@router.get(
    "/{transfer_id}",
    responses=error_responses(404),
    summary="Read a transfer (its giver and receiver, auditors, admins)",
)
def get_transfer(transfer_id: UUID, reader: Reads, viewer: ViewerOf) -> TransferOut:
    return TransferOut.model_validate(reader.transfer(viewer, transfer_id))
