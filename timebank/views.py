"""Plain, immutable views of the ledger's aggregates: what commands and queries return."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from timebank.accounts import Account
from timebank.members import Member, member_code
from timebank.redemptions import Redemption
from timebank.service_logs import ServiceLog
from timebank.teams import Team
from timebank.transfers import Transfer


@dataclass(frozen=True)
class MemberView:
    id: UUID
    name: str
    birth_date: date | None
    roles: tuple[str, ...]
    registered_at: datetime
    anonymous: bool = False  # on honour walls and in rankings seen by others
    agents: tuple[AgentView, ...] = ()
    code: str = ""  # the member code on their card

    @classmethod
    def of(cls, member: Member) -> MemberView:
        return cls(
            id=member.id,
            name=member.name,
            birth_date=member.birth_date,
            roles=tuple(sorted(member.roles)),
            registered_at=member.created_on,
            anonymous=member.anonymous,
            agents=tuple(AgentView(a.agent_id, a.since, a.until) for a in member.agencies),
            code=member_code(member.id),
        )


@dataclass(frozen=True)
class AgentView:
    """An agent acting for the member (家属代办), from `since` up to (not on) `until`."""

    agent_id: UUID
    since: date
    until: date | None


@dataclass(frozen=True)
class MembershipView:
    member_id: UUID
    role: str
    since: date
    until: date | None
    accepted: bool = True


@dataclass(frozen=True)
class TeamView:
    id: UUID
    name: str
    community: str
    members: tuple[MembershipView, ...]  # current members, in order of joining
    founded_on: date | None = None

    @classmethod
    def of(cls, team: Team) -> TeamView:
        return cls(
            id=team.id,
            name=team.name,
            community=team.community,
            founded_on=team.founded_on,
            members=tuple(
                MembershipView(
                    m.member_id, m.role.value, m.since, m.until, team.has_accepted(m.member_id)
                )
                for m in team.current_members()
            ),
        )

    def only(self, member_id: UUID) -> TeamView:
        """The team as a member outside its coordinators sees it: their own membership."""
        return replace(self, members=tuple(m for m in self.members if m.member_id == member_id))


@dataclass(frozen=True)
class ServiceLogView:
    id: UUID
    volunteer_id: UUID
    team_id: UUID
    service_date: date
    minutes: int
    approved_minutes: int | None
    status: str
    activity: str
    beneficiary: str | None
    note: str | None
    reason: str | None
    logged_by: UUID
    recorded_at: datetime
    updated_at: datetime
    version: int
    source: str | None = None  # an import of paper records, or None when entered directly
    certified_by_recorder: bool | None = None

    @classmethod
    def of(cls, log: ServiceLog) -> ServiceLogView:
        return cls(
            id=log.id,
            volunteer_id=log.volunteer_id,
            team_id=log.team_id,
            service_date=log.service_date,
            minutes=log.minutes,
            approved_minutes=log.approved_minutes,
            status=log.status.value,
            activity=log.activity,
            beneficiary=log.beneficiary,
            note=log.note,
            reason=log.reason,
            logged_by=log.logged_by,
            recorded_at=log.created_on,
            updated_at=log.modified_on,
            version=log.version,
            source=log.source,
            certified_by_recorder=log.certified_by_recorder,
        )


@dataclass(frozen=True)
class RedemptionView:
    id: UUID
    member_id: UUID
    team_id: UUID
    service: str
    minutes: int
    status: str
    reason: str | None
    requested_by: UUID
    requested_at: datetime
    updated_at: datetime
    consent: str = "member"
    consented_by: UUID | None = None

    @classmethod
    def of(cls, redemption: Redemption) -> RedemptionView:
        return cls(
            id=redemption.id,
            member_id=redemption.member_id,
            team_id=redemption.team_id,
            service=redemption.service,
            minutes=redemption.minutes,
            status=redemption.status.value,
            reason=redemption.reason,
            requested_by=redemption.requested_by,
            requested_at=redemption.created_on,
            updated_at=redemption.modified_on,
            consent=redemption.consent,
            consented_by=redemption.consented_by,
        )


@dataclass(frozen=True)
class TransferView:
    id: UUID
    from_member_id: UUID
    to_member_id: UUID
    minutes: int
    note: str | None
    made_by: UUID
    made_at: datetime
    consent: str = "member"
    consented_by: UUID | None = None

    @classmethod
    def of(cls, transfer: Transfer) -> TransferView:
        return cls(
            id=transfer.id,
            from_member_id=transfer.from_member_id,
            to_member_id=transfer.to_member_id,
            minutes=transfer.minutes,
            note=transfer.note,
            made_by=transfer.made_by,
            made_at=transfer.created_on,
            consent=transfer.consent,
            consented_by=transfer.consented_by,
        )


@dataclass(frozen=True)
class AccountView:
    """A member's minutes as their account aggregate decides them (no pending logs)."""

    member_id: UUID
    earned_minutes: int
    redeemed_minutes: int
    held_minutes: int
    received_minutes: int
    given_minutes: int
    balance_minutes: int
    available_minutes: int

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            member_id=account.member_id,
            earned_minutes=account.earned,
            redeemed_minutes=account.redeemed,
            held_minutes=account.held,
            received_minutes=account.received,
            given_minutes=account.given,
            balance_minutes=account.balance,
            available_minutes=account.available,
        )
