"""The signed-in member, in one call: what a phone shows when it opens."""

from __future__ import annotations

from fastapi import APIRouter

from api.bodies import StrictJSONRoute
from api.dependencies import Reads, ViewerOf
from api.errors import error_responses
from api.schemas import MeOut

router = APIRouter(
    route_class=StrictJSONRoute,
    tags=["members"],
    responses=error_responses(401, 403, 404, 413, 422, 503),
)


@router.get(
    "/me",
    summary="Read the signed-in member: profile, teams, roles and minutes (not the admin token)",
)
def get_me(reader: Reads, viewer: ViewerOf) -> MeOut:
    """Who they are, the teams they belong to today with their role, their star level,
    their member code and their balance, in one read."""
    return MeOut.model_validate(reader.me(viewer))
