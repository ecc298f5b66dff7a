"""Service logs: logging service, its review (approve, reject, reverse) and listing."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response, status

from api.answers import answered
from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Ledger, Reads, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import (
    ApproveIn,
    OutcomeOut,
    ReasonIn,
    ReviewIn,
    ReviewOut,
    ServiceLogIn,
    ServiceLogOut,
    ServiceLogsOut,
    ServiceLogsQuery,
)
from timebank.reviews import Decision

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/service-logs",
    tags=["service logs"],
    responses=error_responses(401, 403, 413, 422, 503),
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
        pairing_id=body.pairing_id,
        request_id=request_id,
    )
    return ServiceLogOut.model_validate(view)


@router.post(
    "/review",
    responses=error_responses(409),  # an Idempotency-Key reused for another request
    summary="Approve or reject many pending logs at once (the teams' coordinators, admins)",
)
def review_service_logs(
    body: ReviewIn, ledger: Ledger, actor_id: ActorId, request_id: RequestId
) -> ReviewOut:
    """Each log is decided on its own: approved (all its minutes, or fewer with the reason
    why), rejected (with the reason why), or refused and named with the error code (another
    team's, already decided, unknown) while the others go through. The answer lists every
    outcome in the order given; a repeat with the same Idempotency-Key gives it again."""
    outcomes = ledger.review_service_logs(
        actor_id=actor_id,
        decisions=[
            Decision(d.service_log_id, d.action, d.minutes, d.reason) for d in body.decisions
        ],
        request_id=request_id,
    )
    return ReviewOut(items=[OutcomeOut.model_validate(o) for o in outcomes])


@router.get(
    "",
    response_model=ServiceLogsOut,
    summary=(
        "List the logs the caller may see, a page at a time (their own, their teams' "
        "for coordinators, all for auditors and admins)"
    ),
)
async def list_service_logs(
    request: Request,
    reader: Reads,
    viewer: ViewerOf,
    query: Annotated[ServiceLogsQuery, Query()],
) -> Response:
    """The logs a volunteer served or logged (and those of members they act for), those
    of the teams a coordinator coordinates today, and every log for auditors and admins;
    filters narrow them down. In the order they were recorded."""

    def read() -> ServiceLogsOut:
        page = reader.service_logs(
            viewer,
            status=query.status,
            team_id=query.team_id,
            volunteer_id=query.volunteer_id,
            served_from=query.served_from,
            served_until=query.served_until,
            after=query.after,
            limit=query.limit,
        )
        return ServiceLogsOut(
            items=[ServiceLogOut.model_validate(log) for log in page.items],
            next_after=page.next_after,
        )

    return await answered(request, viewer, reader.today(), read)


@router.get(
    "/{log_id}",
    responses=error_responses(404),
    summary="Read a log (its volunteer, the team's coordinators, auditors, admins)",
)
def get_service_log(log_id: UUID, reader: Reads, viewer: ViewerOf) -> ServiceLogOut:
    return ServiceLogOut.model_validate(reader.service_log(viewer, log_id))


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
    """Credits the volunteer with all the minutes logged, or fewer when given (with the
    reason why). A coordinator's own service is approved by another coordinator or an
    admin, never by one they appointed; a log its approver recorded on the volunteer's
    behalf is marked `certified_by_recorder`."""
    view = ledger.approve_service(
        actor_id=actor_id,
        service_log_id=log_id,
        minutes=body.minutes if body else None,
        reason=body.reason if body else None,
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
