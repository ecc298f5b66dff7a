"""Request and response bodies of the HTTP API: strict at the edge, plain JSON out."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from timebank.credentials import CredentialStatus
from timebank.members import GlobalRole
from timebank.redemptions import RedemptionStatus
from timebank.rules import MAX_MINUTES_PER_LOG, MAX_NAME_LENGTH, MAX_TEXT_LENGTH
from timebank.service_logs import ServiceStatus
from timebank.teams import TeamRole

MAX_MINUTES = 100_000_000
"""The most minutes one redemption or transfer may name: far above any balance."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_text(value: Any) -> Any:
    """Dates travel as YYYY-MM-DD, never as numbers or instants."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        msg = "must be a date as YYYY-MM-DD"
        raise ValueError(msg)
    return value


Day = Annotated[date, BeforeValidator(_iso_date_text)]
# Names are one line; longer texts may break lines. Other control characters are refused.
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH, pattern=_ONE_LINE
    ),
]
Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_TEXT_LENGTH, pattern=_LINES
    ),
]
OptionalText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT_LENGTH, pattern=_LINES)
]


def _whole_number(value: Any) -> Any:
    """Minutes are JSON integers (`90`, or `90.0`, which JSON Schema counts as one);
    never text, booleans or fractions."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        msg = "must be a whole number of minutes"
        raise ValueError(msg)
    return value


LogMinutes = Annotated[
    int,
    Field(ge=1, le=MAX_MINUTES_PER_LOG, description="Whole minutes, 1 to 1440."),
    BeforeValidator(_whole_number),
]
Minutes = Annotated[
    int, Field(ge=1, le=MAX_MINUTES, description="Whole minutes."), BeforeValidator(_whole_number)
]


class Request(BaseModel):
    """A request body: unknown fields are refused, never ignored."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Members and tokens ----------------------------------------------------------------


class MemberIn(Request):
    name: Name
    birth_date: Day | None = Field(None, description="Needed where redemption has an age rule.")
    roles: list[GlobalRole] = Field(default_factory=list, max_length=2)


class MemberOut(Response):
    id: UUID
    name: str
    roles: list[GlobalRole]
    registered_at: datetime


class NewMemberOut(MemberOut):
    token: str | None = Field(
        description=(
            "The member's bearer token, shown here only. Null only on the repeat of a "
            "request whose token can no longer be recomputed (the server's token secret "
            "changed): issue a new one with POST /members/{id}/tokens."
        )
    )
    credential_id: UUID = Field(description="Names the token for revocation.")


class TokenOut(Response):
    token: str | None = Field(description="The bearer token, shown here only (see POST /members).")
    credential_id: UUID
    member_id: UUID


class CredentialOut(Response):
    id: UUID
    member_id: UUID
    status: CredentialStatus
    reason: str | None
    issued_by: UUID
    issued_at: datetime
    updated_at: datetime


# Teams ------------------------------------------------------------------------------


class TeamIn(Request):
    name: Name
    community: Name


class TeamMemberIn(Request):
    member_id: UUID
    role: TeamRole
    effective_date: Day | None = Field(
        None,
        description=(
            "When the membership starts (default: today). Service is logged only for days "
            "a volunteer was in the team, so an existing team is entered with its real dates."
        ),
    )


class MembershipOut(Response):
    member_id: UUID
    role: TeamRole
    since: date


class TeamOut(Response):
    id: UUID
    name: str
    community: str
    members: list[MembershipOut] = Field(description="Current members, in order of joining.")


# Service logs -----------------------------------------------------------------------


class ServiceLogIn(Request):
    team_id: UUID
    service_date: Day = Field(description="The day served; not in the future.")
    minutes: LogMinutes
    activity: Name
    volunteer_id: UUID | None = Field(
        None, description="Whom the service is logged for (coordinators); default: the caller."
    )
    beneficiary: OptionalText | None = None
    note: OptionalText | None = None


class ApproveIn(Request):
    minutes: LogMinutes | None = Field(
        None, description="Approve fewer minutes than logged; default: all of them."
    )


class ReasonIn(Request):
    reason: Reason


class ServiceLogOut(Response):
    id: UUID
    volunteer_id: UUID
    team_id: UUID
    service_date: date
    minutes: int
    approved_minutes: int | None
    status: ServiceStatus
    activity: str
    beneficiary: str | None
    note: str | None
    reason: str | None = Field(description="Why it was rejected or reversed.")
    logged_by: UUID
    recorded_at: datetime
    updated_at: datetime


# Redemptions ------------------------------------------------------------------------


class RedemptionIn(Request):
    minutes: Minutes
    service: Name
    team_id: UUID = Field(description="The team that delivers the service.")
    member_id: UUID | None = Field(
        None, description="Whose minutes are spent (coordinators, admins); default: the caller."
    )


class CancelIn(Request):
    reason: OptionalText | None = None


class RedemptionOut(Response):
    id: UUID
    member_id: UUID
    team_id: UUID
    service: str
    minutes: int
    status: RedemptionStatus
    reason: str | None
    requested_by: UUID
    requested_at: datetime
    updated_at: datetime


# Transfers --------------------------------------------------------------------------


class TransferIn(Request):
    to_member_id: UUID
    minutes: Minutes
    note: OptionalText | None = None


class TransferOut(Response):
    id: UUID
    from_member_id: UUID
    to_member_id: UUID
    minutes: int
    note: str | None
    made_by: UUID
    made_at: datetime
