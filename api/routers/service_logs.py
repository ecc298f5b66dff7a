"""Service logs: logging service, its review (approve, reject, reverse) and listing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Caller, Ledger, Projections, RequestId
from api.errors import error_responses
from api.paging import cursor, keyset_page
from api.schemas import (
    ApproveIn,
    ReasonIn,
    ServiceLogIn,
    ServiceLogOut,
    ServiceLogsOut,
    ServiceLogsQuery,
)
from api.visibility import Viewer
from projections.directory import LogRow
from timebank.service_logs import ServiceStatus

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
        request_id=request_id,
    )
    return ServiceLogOut.model_validate(view)


@router.get(
    "",
    summary=(
        "List the logs the caller may see, a page at a time (their own, their teams' "
        "for coordinators, all for auditors and admins)"
    ),
)
def list_service_logs(
    ledger: Ledger,
    actor: Caller,
    runner: Projections,
    query: Annotated[ServiceLogsQuery, Query()],
) -> ServiceLogsOut:
    """The logs a volunteer served or logged, those of the teams a coordinator coordinates
    today, and every log for auditors and admins; filters narrow them down."""

    def key(log: LogRow) -> tuple[datetime, str]:
        return log.recorded_at, str(log.id)

    with runner.lock:
        directory = runner.directory.state
        viewer = Viewer.of(actor, directory, ledger.today())
        after = query.after
        start = None if after is None else key(cursor(directory.logs.get(after)))
        wanted = (
            log
            for log in directory.logs.values()
            if query.status in (None, log.status)
            and query.team_id in (None, log.team_id)
            and query.volunteer_id in (None, log.volunteer_id)
            and viewer.may_see_log(log)
        )
        logs, more = keyset_page(wanted, key=key, after=start, limit=query.limit)
        items = [
            ServiceLogOut(
                id=log.id,
                volunteer_id=log.volunteer_id,
                team_id=log.team_id,
                service_date=log.service_date,
                minutes=log.minutes,
                approved_minutes=log.approved_minutes,
                status=ServiceStatus(log.status),
                activity=log.activity,
                beneficiary=log.beneficiary,
                note=log.note,
                reason=log.reason,
                logged_by=log.logged_by,
                certified_by_recorder=log.certified_by_recorder,
                recorded_at=log.recorded_at,
                updated_at=log.reviewed_at or log.recorded_at,
            )
            for log in logs
        ]
    return ServiceLogsOut(items=items, next_after=logs[-1].id if more else None)


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
