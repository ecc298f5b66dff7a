"""For admins: the sign-ins refused lately (unknown, revoked or expired tokens), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.bodies import StrictJSONRoute
from api.dependencies import Caller, Runner
from api.errors import error_responses
from api.schemas import QueryNumber
from projections.sign_ins import recent_failures
from timebank.errors import PermissionDeniedError

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/audit",
    tags=["audit"],
    responses=error_responses(401, 403, 413, 422, 503),
)


class SignInFailureOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime = Field(description="When the token was refused (UTC).")
    address: str = Field(description="The client address it came from.")
    reason: str = Field(
        description=(
            "unknown (no such token, or a revoked one), expired (past its lifetime), or "
            "limited (the address went over the limit: its further refusals in the window "
            "were answered 429 and are not listed one by one)."
        )
    )
    credential_id: UUID | None = Field(
        description="The token's record, when the token was a real one (expired)."
    )


class SignInFailuresOut(BaseModel):
    items: list[SignInFailureOut]


class FailuresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, QueryNumber] = Field(100, ge=1, le=1000)


@router.get(
    "/sign-in-failures",
    summary="Refused sign-ins, newest first (admins)",
)
def list_sign_in_failures(
    caller: Caller, runner: Runner, query: Annotated[FailuresQuery, Query()]
) -> SignInFailuresOut:
    """Every process serving the store writes its refusals here; the newest 10,000 are
    kept. No token or digest of one is shown or kept."""
    if not caller.is_admin:
        raise PermissionDeniedError(caller.id, "read refused sign-ins", "only admins may")
    failures = recent_failures(runner.store, limit=query.limit)
    return SignInFailuresOut(items=[SignInFailureOut(**vars(f)) for f in failures])
