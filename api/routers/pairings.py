"""Care pairings (结对): a volunteer or a team paired with an elder, and who waits for a visit."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.bodies import StrictJSONRoute
from api.dependencies import ActorId, Ledger, Reads, ReadsAfterWrite, RequestId, ViewerOf
from api.errors import error_responses
from api.schemas import (
    CareGapsQuery,
    EndPairingIn,
    PairingIn,
    PairingOut,
    PairingsOut,
    PairingsQuery,
)
from projections.periods import parse_period

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/pairings",
    tags=["pairings"],
    responses=error_responses(401, 403, 413, 422, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 409),
    summary="Pair a volunteer or the whole team with an elder (the team's coordinators)",
)
def form_pairing(
    *,
    body: PairingIn,
    ledger: Ledger,
    actor_id: ActorId,
    viewer: ViewerOf,
    request_id: RequestId,
    reads: ReadsAfterWrite,
) -> PairingOut:
    """The elder is a member, with or without a token of their own. Service logs that name
    the pairing are its visits."""
    formed = ledger.form_pairing(
        actor_id=actor_id,
        team_id=body.team_id,
        beneficiary_id=body.beneficiary_id,
        volunteer_id=body.volunteer_id,
        since=body.since,
        note=body.note,
        request_id=request_id,
    )
    return PairingOut.model_validate(reads().pairing(viewer, formed.id))


@router.post(
    "/{pairing_id}/end",
    responses=error_responses(404, 409),
    summary="End a pairing, saying why (the team's coordinators, admins)",
)
def end_pairing(
    *,
    pairing_id: UUID,
    body: EndPairingIn,
    ledger: Ledger,
    actor_id: ActorId,
    viewer: ViewerOf,
    request_id: RequestId,
    reads: ReadsAfterWrite,
) -> PairingOut:
    ledger.end_pairing(
        actor_id=actor_id,
        pairing_id=pairing_id,
        reason=body.reason,
        effective_date=body.effective_date,
        request_id=request_id,
    )
    return PairingOut.model_validate(reads().pairing(viewer, pairing_id))


@router.get(
    "",
    summary=(
        "List pairings with their visits (the teams' coordinators; the volunteer and the "
        "elder their own; auditors, admins: all)"
    ),
)
def list_pairings(
    reader: Reads, viewer: ViewerOf, query: Annotated[PairingsQuery, Query()]
) -> PairingsOut:
    """Active pairs per team and community (结对帮扶), with the visits and minutes in the
    period and the day of the last visit."""
    found = reader.pairings(
        viewer,
        team_id=query.team_id,
        community=query.community,
        active_on=reader.today() if query.active else None,
        period=parse_period(query.period),
    )
    return PairingsOut(items=[PairingOut.model_validate(p) for p in found])


@router.get(
    "/care-gaps",
    summary="The elders nobody has visited in the last N days (a grid worker's daily list)",
)
def care_gaps(
    reader: Reads, viewer: ViewerOf, query: Annotated[CareGapsQuery, Query()]
) -> PairingsOut:
    """The pairings in force today with no visit logged (approved or awaiting review) in
    the last `days` days, or none ever; longest waiting first."""
    found = reader.care_gaps(
        viewer, days=query.days, team_id=query.team_id, community=query.community
    )
    return PairingsOut(items=[PairingOut.model_validate(p) for p in found])


@router.get(
    "/{pairing_id}",
    responses=error_responses(404),
    summary="Read a pairing with its visits (as the list: who may see it)",
)
def get_pairing(pairing_id: UUID, reader: Reads, viewer: ViewerOf) -> PairingOut:
    return PairingOut.model_validate(reader.pairing(viewer, pairing_id))
