"""Request and response bodies of the HTTP API: strict at the edge, plain JSON out."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from timebank.credentials import CredentialStatus
from timebank.errors import InvalidRequestError
from timebank.members import GlobalRole
from timebank.redemptions import RedemptionStatus
from timebank.rules import (
    MAX_MINUTES_PER_LOG,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    PERIOD_PATTERN,
    optional_text,
    parse_date,
    parse_whole_number,
    require_text,
)
from timebank.service_logs import ServiceStatus
from timebank.teams import TeamRole

MAX_MINUTES = 100_000_000
"""The most minutes one redemption or transfer may name: far above any balance."""


def _ruled(rule: Callable[[str, Any], Any]) -> Callable[[Any], Any]:
    """A rule of `timebank.rules` as a pydantic validator: its refusal, in its words, is
    the field's error (pydantic names the field)."""

    def validate(value: Any) -> Any:
        try:
            return rule("value", value)
        except InvalidRequestError as error:
            raise ValueError(error.message) from None

    return validate


def _iso_date_text(value: Any) -> Any:
    """Dates travel as YYYY-MM-DD in the digits 0-9, never as numbers, instants, ISO
    week or ordinal dates, and not before 1900."""
    if isinstance(value, date):
        return value
    return _ruled(parse_date)(value)


Day = Annotated[date, BeforeValidator(_iso_date_text)]


def _aware_instant(value: Any) -> Any:
    """Instants travel as ISO 8601 with a UTC offset: a local time alone is ambiguous."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            msg = "must be an ISO 8601 instant, e.g. 2026-11-20T10:00:00+08:00"
            raise ValueError(msg) from None
    else:
        msg = "must be an ISO 8601 instant"
        raise ValueError(msg)
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = "must carry a UTC offset (Z or +08:00): a local time is ambiguous"
        raise ValueError(msg)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        msg = "is out of range"
        raise ValueError(msg) from None


Instant = Annotated[datetime, BeforeValidator(_aware_instant)]
# Texts follow timebank.rules (NFC, trimmed, no control, bidirectional or invisible
# formatting characters, not blank); names are one line, longer texts may break lines. The
# length bounds stand here too, on the text as sent, for the OpenAPI document.
_TEXT_RULES = (
    " Normalised to Unicode NFC and trimmed; control characters (but new lines and tabs in "
    "longer texts), bidirectional controls and invisible formatting characters are refused."
)
Name = Annotated[
    str,
    Field(min_length=1, max_length=MAX_NAME_LENGTH, description="One line." + _TEXT_RULES),
    AfterValidator(_ruled(require_text)),
]
Reason = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TEXT_LENGTH, description="Not blank." + _TEXT_RULES),
    AfterValidator(_ruled(functools.partial(require_text, max_length=MAX_TEXT_LENGTH, lines=True))),
]
OptionalText = Annotated[
    str,
    Field(max_length=MAX_TEXT_LENGTH, description="Blank is none." + _TEXT_RULES),
    AfterValidator(_ruled(lambda field, value: optional_text(field, value) or "")),
]


def _number_text(value: Any) -> Any:
    """Query parameters arrive as text: a number there is the digits 0-9 alone (pydantic
    would also take a sign, spaces, underscores and `5.0`)."""
    return _ruled(parse_whole_number)(value) if isinstance(value, str) else value


QueryNumber = BeforeValidator(_number_text)


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


# Queries of lists: unknown parameters are refused too, so a misspelt filter never
# silently widens an answer. Paging: see api/paging.py.

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_POSITION = 2**63 - 1  # the largest log position the stores can hold

_LIMIT = "The most items in the page (1 to 500)."
_AFTER_ID = "Start after this item: omit it first, then pass the `next_after` of a page."
_AFTER_POSITION = "Start after this log position: 0 first, then the `next_after` of a page."


class PositionPage(Request):
    after: Annotated[int, QueryNumber] = Field(
        0, ge=0, le=MAX_POSITION, description=_AFTER_POSITION
    )
    limit: Annotated[int, QueryNumber] = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=_LIMIT
    )


class IdPage(Request):
    after: UUID | None = Field(None, description=_AFTER_ID)
    limit: Annotated[int, QueryNumber] = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=_LIMIT
    )


class TeamsQuery(IdPage):
    community: str | None = Field(
        None, max_length=MAX_NAME_LENGTH, description="Only this community's teams."
    )


class ServiceLogsQuery(IdPage):
    status: ServiceStatus | None = Field(None, description="Only logs in this state.")
    team_id: UUID | None = Field(None, description="Only this team's logs.")
    volunteer_id: UUID | None = Field(None, description="Only this volunteer's logs.")
    served_from: Day | None = Field(None, description="Only logs served on or after this day.")
    served_until: Day | None = Field(None, description="Only logs served on or before this day.")


class TeamRankingsQuery(IdPage):
    period: str = Field(
        "all",
        pattern=PERIOD_PATTERN,
        description=(
            "By service date: `all` (default), a year `2026`, a month `2026-11` or an ISO "
            "week `2026-W45` (Monday to Sunday)."
        ),
    )
    community: str | None = Field(
        None, max_length=MAX_NAME_LENGTH, description="Only this community's teams."
    )
    format: Literal["json", "csv", "xlsx"] | None = Field(
        None,
        description=(
            "`csv` or `xlsx`: the whole table as a file at one ledger position (as under "
            "`/reports`); without it, the `Accept` header decides (text/csv, the XLSX type)."
        ),
    )


class VolunteerRankingsQuery(TeamRankingsQuery):
    team_id: UUID | None = Field(None, description="Only this team's volunteers.")


class ReplayQuery(Request):
    as_of: Instant | None = Field(
        None,
        description=(
            "A recorded instant, ISO 8601 with its UTC offset "
            "(`2026-11-20T10:00:00+08:00` or `...Z`); default: now."
        ),
    )


# Members and tokens ----------------------------------------------------------------


class MemberIn(Request):
    name: Name
    birth_date: Day | None = Field(None, description="Needed where redemption has an age rule.")
    roles: list[GlobalRole] = Field(default_factory=list, max_length=2)


class AgentOut(Response):
    agent_id: UUID
    since: date
    until: date | None = Field(description="The first day the agent no longer acts; null: open.")


class MemberOut(Response):
    id: UUID
    name: str
    roles: list[GlobalRole]
    registered_at: datetime


class MemberRecordOut(MemberOut):
    """A member as a command that changed them answers."""

    anonymous: bool = Field(description="Shown as anonymous on honour walls and rankings.")
    agents: list[AgentOut] = Field(description="Agents acting for the member (家属代办).")


_CARD_CODE = Annotated[
    str,
    Field(
        min_length=8,
        max_length=16,
        pattern=r"^ *[0-9][0-9 -]{6,14}[0-9] *$",
        description="Eight digits as printed on the card (`1234 5678`); spaces ignored.",
    ),
]


class AgentIn(Request):
    agent_id: UUID = Field(description="The member who will act for this one (家属代办).")
    since: Day | None = Field(None, description="The first day the agent acts (default today).")
    until: Day | None = Field(None, description="The first day the agent no longer acts.")
    card_code: _CARD_CODE | None = Field(
        None,
        description=(
            "The confirmation code from the member's card, when staff register the agent "
            "at the counter; not needed when the member asks themself."
        ),
    )
    team_id: UUID | None = Field(
        None, description="The team whose coordinator takes the card's code (coordinators)."
    )


class CardIn(Request):
    team_id: UUID | None = Field(
        None,
        description="The team of the member through which a coordinator prints the card.",
    )


class CardOut(Response):
    member_id: UUID
    card_number: int = Field(description="Counts the member's cards; an older one stops working.")
    code: str | None = Field(
        description="The confirmation code to print on the card, shown here only."
    )
    token: str | None = Field(description="The card's sign-in token, shown here only.")
    credential_id: UUID = Field(description="Names the card's sign-in token.")


class PublicityIn(Request):
    anonymous: bool = Field(description="True: other members see 匿名志愿者, not the name.")


class MemberTeamOut(Response):
    team_id: UUID
    name: str
    community: str
    role: TeamRole
    since: date
    accepted: bool = Field(
        description="The member accepted the membership (POST /teams/{id}/members/{m}/accept)."
    )


class MemberProfileOut(MemberOut):
    teams: list[MemberTeamOut] = Field(
        description="The teams the member belongs to today, by team name, with their role."
    )
    star_level: int = Field(
        ge=0,
        description=(
            "Star level (星级): how many rungs of the ladder (by default 100, 300, 600, 1000 "
            "and 1500 hours) the lifetime minutes reach; 0 below the first."
        ),
    )
    lifetime_minutes: int = Field(description="Every approved minute, net of reversals.")
    code: str = Field(description="The member code on their card, for others to find them.")
    to_next_star_minutes: int | None = Field(
        None,
        description="Approved minutes still to serve for the next star (None at the top), "
        "on the ladder in force today.",
    )


class ExpiringOut(Response):
    expires_on: date
    minutes: int


class BalanceOut(Response):
    member_id: UUID
    pending_minutes: int = Field(description="Logged, awaiting review; not in the balance.")
    earned_minutes: int = Field(description="Approved, net of reversals.")
    redeemed_minutes: int = Field(description="Spent on fulfilled redemptions.")
    held_minutes: int = Field(description="Held by redemptions not yet fulfilled or cancelled.")
    received_minutes: int = Field(description="Given to the member by others.")
    given_minutes: int = Field(description="Given by the member to others.")
    balance_minutes: int = Field(description="earned - redeemed + received - given - expired.")
    available_minutes: int = Field(description="balance - held: what may be spent or given.")
    expired_minutes: int = Field(0, description="Left unspent past their expiry.")
    expiring: list[ExpiringOut] = Field(
        [], description="What of the balance expires when, soonest first, unless spent."
    )


class StatementLineOut(Response):
    position: int = Field(description="The posting's position in the ledger's log.")
    recorded_at: datetime
    kind: Literal["earned", "earning_reversed", "redeemed", "gave", "received", "expired"]
    reference_id: UUID = Field(description="The service log, redemption or transfer.")
    counterparty: str = Field(
        description=(
            "The other account: `issuance`, `redeemed`, `expired` or `member:<member id>`."
        )
    )
    minutes: int = Field(description="What the posting added to the balance (negative: took).")
    balance_minutes: int = Field(description="The balance after this posting.")
    service_date: date | None = Field(None, description="The day served (service postings).")
    activity: str | None = Field(None, description="What was done (service postings).")
    team_id: UUID | None = Field(None, description="The team served with (service postings).")
    team_name: str | None = None
    counterparty_name: str | None = Field(
        None, description="Whom minutes were given to or received from (gifts)."
    )


class StatementOut(Response):
    member_id: UUID
    items: list[StatementLineOut] = Field(description="Postings in log order.")
    next_after: int | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


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
    kind: Literal["token", "card"]
    status: CredentialStatus
    reason: str | None
    issued_by: UUID
    issued_by_other: bool = Field(
        description="Someone other than the member issued it (and has seen it)."
    )
    issued_at: datetime
    updated_at: datetime


# Teams ------------------------------------------------------------------------------


class TeamIn(Request):
    name: Name
    community: Name
    founded_on: Day | None = Field(
        None,
        description=(
            "The first day the team served (default: today); memberships start no earlier."
        ),
    )


class TeamMemberIn(Request):
    member_id: UUID
    role: TeamRole
    effective_date: Day | None = Field(
        None,
        description=(
            "When the membership starts (default: today), not before the team was founded "
            "and at most a month ahead. Service is logged only for days a volunteer was in "
            "the team, so an existing team is entered with its real dates."
        ),
    )


class MembershipOut(Response):
    member_id: UUID
    role: TeamRole
    since: date
    accepted: bool = Field(
        description="The member accepted it: the team's coordinators see their minutes."
    )


class TeamOut(Response):
    id: UUID
    name: str
    community: str
    founded_on: date | None = Field(description="The first day the team served.")
    members: list[MembershipOut] = Field(
        description=(
            "Current members, in order of joining: every one for the team's coordinators, "
            "auditors and admins; the caller's own membership for anyone else."
        )
    )


class TeamsOut(Response):
    items: list[TeamOut] = Field(description="Teams by name.")
    next_after: UUID | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


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
    pairing_id: UUID | None = Field(
        None, description="The care pairing (结对) this service was a visit of."
    )


class ApproveIn(Request):
    minutes: LogMinutes | None = Field(
        None, description="Approve fewer minutes than logged; default: all of them."
    )
    reason: Reason | None = Field(
        None, description="Why fewer minutes than logged (travel is not service time)."
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
    reason: str | None = Field(
        description="Why it was rejected or reversed, or approved for fewer minutes."
    )
    logged_by: UUID
    certified_by_recorder: bool | None = Field(
        None,
        description=(
            "Approved by the coordinator who logged it on the volunteer's behalf "
            "(谁记录谁证明); null when not approved, or approved before this was recorded."
        ),
    )
    recorded_at: datetime
    updated_at: datetime
    volunteer_name: str = Field("", description="Who served.")
    team_name: str = Field("", description="The team served with.")
    activity_id: UUID | None = Field(None, description="The activity (场次) it was part of.")
    pairing_id: UUID | None = Field(None, description="The care pairing it was a visit of.")


class ServiceLogsOut(Response):
    items: list[ServiceLogOut] = Field(description="Logs in the order they were recorded.")
    next_after: UUID | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


# Redemptions ------------------------------------------------------------------------


class RedemptionIn(Request):
    minutes: Minutes
    service: Name
    team_id: UUID = Field(description="The team that delivers the service.")
    member_id: UUID | None = Field(
        None,
        description=(
            "Whose minutes are spent (default: the caller): a member the caller is the "
            "registered agent of, or, at the counter, any member whose card code is given."
        ),
    )
    card_code: _CARD_CODE | None = Field(
        None,
        description=(
            "The confirmation code from the member's card: their consent at the counter "
            "(the delivering team's coordinators, admins)."
        ),
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
    consent: Literal["member", "agent", "card", "unrecorded"] = Field(
        description="How the member agreed: asked themself, through their agent, or by card."
    )
    consented_by: UUID | None = Field(description="The member, or the agent who asked.")
    requested_at: datetime
    updated_at: datetime


# Transfers --------------------------------------------------------------------------


class TransferIn(Request):
    to_member_id: UUID
    minutes: Minutes
    note: OptionalText | None = None
    from_member_id: UUID | None = Field(
        None,
        description=(
            "Whose minutes are given (default: the caller): a member the caller is the "
            "registered agent of, or (admins, at the counter) one whose card code is given."
        ),
    )
    card_code: _CARD_CODE | None = Field(
        None, description="The confirmation code from the giver's card (admins, at the counter)."
    )


class TransferOut(Response):
    id: UUID
    from_member_id: UUID
    to_member_id: UUID
    minutes: int
    note: str | None
    made_by: UUID
    consent: Literal["member", "agent", "card"]
    consented_by: UUID | None
    made_at: datetime


# Rankings ---------------------------------------------------------------------------

_RANKED = "Ranked by minutes; ties share a rank (1, 2, 2, 4) and are listed by name."
_RANKED_VOLUNTEERS = (
    "Ranked by minutes; ties share a rank (1, 2, 2, 4) and are listed by member id (names "
    "may be sealed at rest, so the store orders by id)."
)


class TeamRankOut(Response):
    rank: int
    team_id: UUID
    name: str
    community: str
    minutes: int = Field(description="Approved minutes net of reversals, by service date.")
    volunteers: int = Field(description="Distinct volunteers credited.")
    person_times: int = Field(description="Approved, unreversed logs (人次).")
    sessions: int = Field(
        description=(
            "Sessions (场次): each recorded activity once, and logs made one by one once "
            "per distinct service date and activity text."
        )
    )


class VolunteerRankOut(Response):
    rank: int
    member_id: UUID | None = Field(
        description=(
            "Null for a member the caller may not see by name (another community, or one "
            "who chose to be anonymous)."
        )
    )
    name: str = Field(description="The member's name, or 匿名志愿者 (anonymous).")
    minutes: int = Field(description="Approved minutes net of reversals, by service date.")
    person_times: int = Field(description="Approved, unreversed logs (人次).")
    sessions: int = Field(
        description=(
            "Sessions (场次): each recorded activity once, and logs made one by one once "
            "per distinct service date and activity text."
        )
    )


class TeamRankingsOut(Response):
    period: str
    items: list[TeamRankOut] = Field(description=_RANKED)
    next_after: UUID | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


class VolunteerRankingsOut(Response):
    period: str
    items: list[VolunteerRankOut] = Field(description=_RANKED_VOLUNTEERS)
    next_after: UUID | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


# Audit ------------------------------------------------------------------------------


class AuditEventOut(Response):
    position: int = Field(description="The event's position in the ledger's log.")
    type: str = Field(description="The event's type, e.g. `ServiceLog.Approved`.")
    topic: str = Field(description="The stored topic, as hashed into the chain.")
    aggregate_id: str
    aggregate_version: int
    recorded_at: str | None = Field(description="When it was recorded, as stored in the event.")
    actor_id: str | None = Field(description="The acting member, as stored in the event.")
    data: dict[str, Any] = Field(description="The event's data, decoded as plain JSON.")
    hash: str = Field(
        description=(
            "SHA-256 (hex) of the previous event's hash (64 zeros before the first), a "
            "newline, and the compact, key-sorted JSON of position, topic, aggregate_id, "
            "aggregate_version and data."
        )
    )


class AuditEventsOut(Response):
    items: list[AuditEventOut] = Field(description="Events in log order.")
    next_after: int | None = Field(
        description="Pass it as `after` for the next page; null on the last page."
    )


class ReplayBalanceOut(Response):
    member_id: UUID
    balance_minutes: int
    held_minutes: int
    available_minutes: int


class ReplayOut(Response):
    as_of: datetime = Field(description="The recorded instant replayed up to (UTC).")
    events_replayed: int
    balances: list[ReplayBalanceOut] = Field(description="Every member's account, by id.")
    system_accounts: dict[str, int] = Field(
        description="The `issuance` and `redeemed` accounts (credits minus debits)."
    )
    total_minutes: int = Field(description="All accounts summed: 0 when the books balance.")


class FindingOut(Response):
    position: int | None = Field(description="Where in the log; null for the whole ledger.")
    kind: str = Field(
        description=(
            "altered, missing, unrecorded, out_of_order, undecodable, audit_chain_broken, "
            "imbalance, overdraft, bad_posting, inconsistent or projection_mismatch."
        )
    )
    detail: str


class VerifyOut(Response):
    ok: bool = Field(description="True when nothing was found.")
    events_checked: int
    problems: list[FindingOut]


class CertifiedCreditOut(Response):
    service_log_id: UUID
    coordinator_id: UUID = Field(
        description="Who logged it on the volunteer's behalf and approved it."
    )
    volunteer_id: UUID
    service_date: date
    minutes: int
    approved_at: datetime
    reversed: bool


class CoordinatorCreditsOut(Response):
    coordinator_id: UUID
    logs: int = Field(description="Logs they recorded and certified themself.")
    minutes: int = Field(description="Their minutes, net of reversals.")


class SpendOut(Response):
    kind: Literal["redemption", "transfer"]
    id: UUID
    member_id: UUID = Field(description="Whose minutes were spent or given.")
    minutes: int
    asked_by: UUID
    consent: str = Field(description="member, agent, card, or unrecorded (before it was).")
    consented_by: UUID | None
    credential_id: UUID | None = Field(description="The credential the request signed in with.")
    credential_issued_by: UUID | None = Field(description="Who issued that credential.")
    recorded_at: datetime


class TrustReportOut(Response):
    events_read: int
    certified_by_recorder: list[CertifiedCreditOut] = Field(
        description=(
            "Service a coordinator logged on a volunteer's behalf and approved themself "
            "(谁记录谁证明), in the order approved."
        )
    )
    per_coordinator: list[CoordinatorCreditsOut] = Field(
        description="The same, per coordinator, most minutes first."
    )
    on_behalf: list[SpendOut] = Field(
        description="Redemptions and gifts asked for by someone other than the member."
    )
    with_others_credentials: list[SpendOut] = Field(
        description=(
            "Redemptions and gifts signed in with a credential that someone other than its "
            "member issued (and so has seen): an admin's token, a printed card's link."
        )
    )


# The signed-in member ----------------------------------------------------------------


class MeOut(Response):
    profile: MemberProfileOut
    balance: BalanceOut


class FoundMemberOut(Response):
    id: UUID
    name: str
    code: str = Field(description="The member code on their card.")


class FoundMembersOut(Response):
    items: list[FoundMemberOut] = Field(description="By name.")


class CodeQuery(Request):
    code: str = Field(
        min_length=8,
        max_length=12,
        pattern=r"^[0-9A-Za-z -]+$",
        description="The code printed on the member's card (`K7F3-M2QX`).",
    )


class NameQuery(Request):
    name: str | None = Field(
        None, max_length=MAX_NAME_LENGTH, description="Only members whose name holds this."
    )


# Activities (场次) ---------------------------------------------------------------------


class AttendeeIn(Request):
    member_id: UUID
    minutes: LogMinutes


class ActivityIn(Request):
    team_id: UUID
    service_date: Day = Field(description="The day of the activity; not in the future.")
    activity: Name
    place: OptionalText | None = None
    beneficiaries: OptionalText | None = Field(None, description="Whom it served.")
    attendees: list[AttendeeIn] = Field(min_length=1, max_length=500)


class AttendeeOut(Response):
    member_id: UUID
    name: str = ""
    minutes: int
    service_log_id: UUID
    status: str = Field(
        "approved", description="The log's: approved, or pending where another certifies it."
    )


class ActivityOut(Response):
    id: UUID
    team_id: UUID
    team_name: str = ""
    service_date: date
    activity: str
    place: str | None
    beneficiaries: str | None
    recorded_by: UUID
    attendees: list[AttendeeOut]


class ActivitiesOut(Response):
    items: list[ActivityOut] = Field(description="Latest first.")
    next_after: UUID | None


class ActivitiesQuery(IdPage):
    team_id: UUID | None = Field(None, description="Only this team's activities.")


class RemoveAttendeeIn(Request):
    reason: Reason


# Reviews of many logs ------------------------------------------------------------------


class DecisionIn(Request):
    service_log_id: UUID
    action: Literal["approve", "reject"]
    minutes: LogMinutes | None = Field(None, description="Approve fewer minutes than logged.")
    reason: Reason | None = Field(
        None, description="Why fewer minutes (approve), or why not (reject: required)."
    )


class ReviewIn(Request):
    decisions: list[DecisionIn] = Field(min_length=1, max_length=200)


class OutcomeOut(Response):
    service_log_id: UUID
    outcome: Literal["approved", "rejected", "refused"]
    code: str | None = Field(None, description="Why it was refused (the error codes').")
    message: str | None = None


class ReviewOut(Response):
    items: list[OutcomeOut] = Field(description="In the order the decisions were given.")


# Care pairings (结对) ------------------------------------------------------------------


class PairingIn(Request):
    team_id: UUID
    beneficiary_id: UUID = Field(description="The elder visited: a member, token or not.")
    volunteer_id: UUID | None = Field(
        None, description="The volunteer who visits; none: the whole team does."
    )
    since: Day | None = Field(None, description="From this day (default today).")
    note: OptionalText | None = None


class EndPairingIn(Request):
    reason: Reason
    effective_date: Day | None = Field(None, description="From this day (default today).")


class PairingOut(Response):
    id: UUID
    team_id: UUID
    team_name: str = ""
    community: str = ""
    beneficiary_id: UUID
    beneficiary_name: str = ""
    volunteer_id: UUID | None
    volunteer_name: str | None = None
    since: date
    until: date | None
    note: str | None
    last_visit: date | None = Field(None, description="The last day a visit was logged.")
    visits: int = Field(0, description="Approved visits in the period.")
    minutes: int = Field(0, description="Approved minutes of those visits.")


class PairingsOut(Response):
    items: list[PairingOut]


class PairingsQuery(Request):
    team_id: UUID | None = None
    community: str | None = Field(None, max_length=MAX_NAME_LENGTH)
    active: bool = Field(True, description="Only the pairings in force today.")
    period: str = Field(
        "all",
        pattern=PERIOD_PATTERN,
        description="Which visits to count: all, YYYY, YYYY-MM or YYYY-Www.",
    )


class CareGapsQuery(Request):
    days: int = Field(7, ge=1, le=366, description="Nobody visited within this many days.")
    team_id: UUID | None = None
    community: str | None = Field(None, max_length=MAX_NAME_LENGTH)


# The community's rules ------------------------------------------------------------------


class RulesIn(Request):
    """Only the rules that change; the others stay as the version in force has them."""

    balance_cap_minutes: int | None = Field(
        None, ge=1, description="The most minutes a member may hold (Nanjing: 90000)."
    )
    redemption_min_age: int | None = Field(
        None, ge=0, le=150, description="The youngest age that may redeem (Nanjing 60)."
    )
    hardship_exception: bool | None = Field(
        None, description="Younger members may redeem when a hardship is stated (Shanghai)."
    )
    daily_limit_minutes: int | None = Field(
        None, ge=1, le=1440, description="The most minutes credited for one service day."
    )
    star_ladder_hours: list[int] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Lifetime hours for each star (Beijing: [100, 200, 500, 800, 1000]).",
    )
    expiry_months: int | None = Field(
        None, ge=1, le=1200, description="Unspent earned minutes expire after so many months."
    )
    organisation: Name | None = Field(None, description="Who issues certificates.")
    certificate_prefix: str | None = Field(
        None, pattern=r"^[A-Z0-9]{1,10}$", description="Certificate numbers' letters (LK)."
    )
    no_balance_cap: bool = Field(False, description="Remove the balance cap.")
    no_min_age: bool = Field(False, description="Remove the minimum age.")
    no_expiry: bool = Field(False, description="Minutes no longer expire.")

    def changes(self) -> dict[str, Any]:
        """The rules this request changes, as `Rules.changed` takes them."""
        changes = {
            name: value
            for name, value in self.model_dump(exclude_unset=True).items()
            if not name.startswith("no_")
        }
        for flag, rule in (
            ("no_balance_cap", "balance_cap_minutes"),
            ("no_min_age", "redemption_min_age"),
            ("no_expiry", "expiry_months"),
        ):
            if getattr(self, flag):
                changes[rule] = None
        return changes


class RulesOut(Response):
    balance_cap_minutes: int | None
    redemption_min_age: int | None
    hardship_exception: bool
    daily_limit_minutes: int
    star_ladder_hours: list[int]
    expiry_months: int | None
    organisation: str
    certificate_prefix: str


class PolicyVersionOut(Response):
    version: int
    effective_on: date = Field(description="In force from this day, until a later version's.")
    rules: RulesOut
    adopted_by: UUID
    adopted_at: datetime | None = None
    reason: str


class PolicyOut(Response):
    in_force: PolicyVersionOut = Field(description="The version deciding today.")
    versions: list[PolicyVersionOut] = Field(description="Every version adopted, oldest first.")


class AdoptPolicyIn(Request):
    rules: RulesIn
    effective_on: Day | None = Field(None, description="From this day (default today).")
    reason: Reason


class RefusalOut(Response):
    position: int = Field(description="The decision's position in the log.")
    kind: Literal["over_cap", "over_daily_limit", "under_min_age", "not_affordable"]
    member_id: UUID
    name: str
    minutes: int
    day: date | None


class MemberChangeOut(Response):
    member_id: UUID
    name: str
    before: int
    after: int


class WhatIfOut(Response):
    events: int = Field(description="Events replayed.")
    proposed: RulesOut
    refused: dict[str, int] = Field(description="Decisions the rules would refuse, by kind.")
    refusals: list[RefusalOut] = Field(description="The first of each kind, in log order.")
    over_cap: list[MemberChangeOut] = Field(
        description="Members over the proposed cap today: their balance, and the cap."
    )
    expired_minutes: int = Field(description="Minutes that would have expired by today.")
    expired: list[MemberChangeOut] = Field(
        description="Members who would have lost minutes: balance now, and after expiry."
    )
    star_changes: list[MemberChangeOut] = Field(
        description="Star levels that would change: today's, and under the proposed ladder."
    )
