"""Redemptions: spending minutes on a service, held first, then fulfilled or cancelled."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, CredentialId, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import CancelIn, RedemptionIn, RedemptionOut

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/redemptions",
    tags=["redemptions"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary=(
        "Redeem minutes: they are held at once (the member, their agent, or the team's "
        "coordinators with the member's card code)"
    ),
)
def request_redemption(
    body: RedemptionIn,
    ledger: Ledger,
    actor_id: ActorId,
    credential_id: CredentialId,
    request_id: RequestId,
) -> RedemptionOut:
    """Minutes leave a member's account only with their consent: the member asks, an
    agent they registered asks, or the confirmation code from their card is given at the
    counter. Whoever asks on the member's behalf does not also confirm the delivery."""
    view = ledger.request_redemption(
        actor_id=actor_id,
        team_id=body.team_id,
        service=body.service,
        minutes=body.minutes,
        member_id=body.member_id,
        card_code=body.card_code,
        credential_id=credential_id,
        request_id=request_id,
    )
    return RedemptionOut.model_validate(view)


@router.get(
    "/{redemption_id}",
    responses=error_responses(404),
    summary="Read a redemption (its member, the team's coordinators, auditors, admins)",
)
def get_redemption(redemption_id: UUID, reader: Reads, viewer: ViewerOf) -> RedemptionOut:
    return RedemptionOut.model_validate(reader.redemption(viewer, redemption_id))


@router.post(
    "/{redemption_id}/fulfil",
    responses=error_responses(404, 409),
    summary=(
        "The service was given: spend the held minutes (the team's coordinators, admins; "
        "not whoever asked on the member's behalf)"
    ),
)
def fulfil_redemption(
    redemption_id: UUID, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> RedemptionOut:
    view = ledger.fulfil_redemption(
        actor_id=actor_id, redemption_id=redemption_id, request_id=request_id
    )
    return RedemptionOut.model_validate(view)


@router.post(
    "/{redemption_id}/cancel",
    responses=error_responses(404, 409),
    summary="Call it off: the held minutes return (the member, the team's coordinators)",
)
def cancel_redemption(
    redemption_id: UUID,
    ledger: Ledger,
    actor_id: ActorId,
    request_id: RequestId,
    body: Annotated[CancelIn | None, Body()] = None,
) -> RedemptionOut:
    view = ledger.cancel_redemption(
        actor_id=actor_id,
        redemption_id=redemption_id,
        reason=body.reason if body else None,
        request_id=request_id,
    )
    return RedemptionOut.model_validate(view)
