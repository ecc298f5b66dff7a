"""Activities (场次): one session of a team recorded with its attendees in one request."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Ledger, Reads, ReadsAfterWrite, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import (
    ActivitiesOut,
    ActivitiesQuery,
    ActivityIn,
    ActivityOut,
    AttendeeIn,
    RemoveAttendeeIn,
)
from timebank.coordination import Attendee

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/activities",
    tags=["activities"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Record an activity with its attendees (the team's coordinators, admins)",
)
def record_activity(
    *,
    body: ActivityIn,
    ledger: Ledger,
    actor_id: ActorId,
    viewer: ViewerOf,
    request_id: RequestId,
    reads: ReadsAfterWrite,
) -> ActivityOut:
    """One service log per attendee, all saved at once and linked to the activity. Whoever
    records it certifies it (谁记录谁证明): the logs are approved at once, except the
    recorder's own attendance (and that of whoever appointed them), which stays pending
    for another coordinator or an admin. In the rankings the activity counts as one
    session (场次) and each attendee as one person-time (人次)."""
    recorded = ledger.record_activity(
        actor_id=actor_id,
        team_id=body.team_id,
        service_date=body.service_date,
        activity=body.activity,
        place=body.place,
        beneficiaries=body.beneficiaries,
        attendees=[Attendee(a.member_id, a.minutes) for a in body.attendees],
        request_id=request_id,
    )
    return ActivityOut.model_validate(reads().activity(viewer, recorded.id))


@router.get(
    "",
    summary="List activities, latest first (the teams' coordinators; auditors, admins: all)",
)
def list_activities(
    reader: Reads, viewer: ViewerOf, query: Annotated[ActivitiesQuery, Query()]
) -> ActivitiesOut:
    page = reader.activities(viewer, team_id=query.team_id, after=query.after, limit=query.limit)
    return ActivitiesOut(
        items=[ActivityOut.model_validate(a) for a in page.items], next_after=page.next_after
    )


@router.get(
    "/{activity_id}",
    responses=error_responses(404),
    summary="Read an activity (its attendees, the team's coordinators, auditors, admins)",
)
def get_activity(activity_id: UUID, reader: Reads, viewer: ViewerOf) -> ActivityOut:
    return ActivityOut.model_validate(reader.activity(viewer, activity_id))


@router.post(
    "/{activity_id}/attendees",
    responses=error_responses(404, 409),
    summary="Add someone who attended (the team's coordinators, admins)",
)
def add_attendee(
    *,
    activity_id: UUID,
    body: AttendeeIn,
    ledger: Ledger,
    actor_id: ActorId,
    viewer: ViewerOf,
    request_id: RequestId,
    reads: ReadsAfterWrite,
) -> ActivityOut:
    """A new log for them, certified like the others; the activity's record is not edited."""
    ledger.add_attendee(
        actor_id=actor_id,
        activity_id=activity_id,
        member_id=body.member_id,
        minutes=body.minutes,
        request_id=request_id,
    )
    return ActivityOut.model_validate(reads().activity(viewer, activity_id))


@router.post(
    "/{activity_id}/attendees/{member_id}/remove",
    responses=error_responses(404, 409),
    summary="Take back someone recorded as attending who did not (the team's coordinators)",
)
def remove_attendee(
    *,
    activity_id: UUID,
    member_id: UUID,
    body: RemoveAttendeeIn,
    ledger: Ledger,
    actor_id: ActorId,
    viewer: ViewerOf,
    request_id: RequestId,
    reads: ReadsAfterWrite,
) -> ActivityOut:
    """Their log is reversed (approved) or rejected (pending) with the reason; refused if
    the minutes are already spent."""
    ledger.remove_attendee(
        actor_id=actor_id,
        activity_id=activity_id,
        member_id=member_id,
        reason=body.reason,
        request_id=request_id,
    )
    return ActivityOut.model_validate(reads().activity(viewer, activity_id))
