"""Service logs: logging service and its review (approve, reject, reverse)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, status

from api.dependencies import ActorId, Ledger, RequestId
from api.errors import error_responses
from api.schemas import ApproveIn, ReasonIn, ServiceLogIn, ServiceLogOut

router = APIRouter(
    prefix="/service-logs", tags=["service logs"], responses=error_responses(401, 403, 422, 503)
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Log service (a volunteer in their team, or a coordinator for them)",
)
def log_service(
    body: ServiceLogIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> ServiceLogOut:
    """The log is pending until a coordinator of the team reviews it."""
    view = ledger.log_service(
        actor_id=actor_id,
        team_id=body.team_id,
        service_date=body.service_date,
        minutes=body.minutes,
        activity=body.activity,
        volunteer_id=body.volunteer_id,
        beneficiary=body.beneficiary,
        note=body.note,
        request_id=request_id,
    )
    return ServiceLogOut.model_validate(view)


@router.get(
    "/{log_id}",
    responses=error_responses(404),
    summary="Read a log (its volunteer, the team's coordinators, auditors, admins)",
)
def get_service_log(log_id: UUID, ledger: Ledger, actor_id: ActorId) -> ServiceLogOut:
    view = ledger.read_service_log(actor_id=actor_id, service_log_id=log_id)
    return ServiceLogOut.model_validate(view)


@router.post(
    "/{log_id}/approve",
    responses=error_responses(404, 409),
    summary="Approve a pending log (the team's coordinators, admins; never one's own)",
)
def approve_service(
    log_id: UUID,
    ledger: Ledger,
    actor_id: ActorId,
    request_id: RequestId,
    body: Annotated[ApproveIn | None, Body()] = None,
) -> ServiceLogOut:
    """Credits the volunteer with all the minutes logged, or fewer when given."""
    view = ledger.approve_service(
        actor_id=actor_id,
        service_log_id=log_id,
        minutes=body.minutes if body else None,
        request_id=request_id,
    )
    return ServiceLogOut.model_validate(view)


@router.post(
    "/{log_id}/reject",
    responses=error_responses(404, 409),
    summary="Reject a pending log, saying why (the team's coordinators, admins)",
)
def reject_service(
    log_id: UUID, body: ReasonIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> ServiceLogOut:
    view = ledger.reject_service(
        actor_id=actor_id, service_log_id=log_id, reason=body.reason, request_id=request_id
    )
    return ServiceLogOut.model_validate(view)


@router.post(
    "/{log_id}/reverse",
    responses=error_responses(404, 409),
    summary="Reverse an approved log, saying why (the team's coordinators, admins)",
)
def reverse_service(
    log_id: UUID, body: ReasonIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> ServiceLogOut:
    """A compensating event takes the minutes back; refused if they are already spent."""
    view = ledger.reverse_service(
        actor_id=actor_id, service_log_id=log_id, reason=body.reason, request_id=request_id
    )
    return ServiceLogOut.model_validate(view)
