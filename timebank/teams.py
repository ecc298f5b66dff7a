"""Service teams (服务小队) and the dated memberships of their volunteers and coordinators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import require_text


class TeamRole(StrEnum):
    """What a member does in one team."""

    VOLUNTEER = "volunteer"  # logs their own service
    COORDINATOR = "coordinator"  # also reviews the team's logs and fulfils redemptions


@dataclass(frozen=True)
class Membership:
    """One stretch of a member's time in a team, from `since` up to (not on) `until`."""

    member_id: UUID
    role: TeamRole
    since: date
    until: date | None = None

    def covers(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)


class Team(Aggregate):
    """A team delivering one kind of service in a community; it keeps its members' history."""

    TOPIC = "timebank:Team"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Team.Event"
        actor_id: UUID

    class Formed(Event, Aggregate.Created):
        """A team was set up in a community."""

        TOPIC = "timebank:Team.Formed"
        name: str
        community: str

    class MemberJoined(Event):
        """A member joined, or took a new role, from the effective date on."""

        TOPIC = "timebank:Team.MemberJoined"
        member_id: UUID
        role: str
        effective_date: date

    class MemberLeft(Event):
        """A member left the team on the effective date; their history stays."""

        TOPIC = "timebank:Team.MemberLeft"
        member_id: UUID
        effective_date: date

    @classmethod
    def form(cls, *, actor_id: UUID, name: str, community: str) -> Team:
        return cls(
            actor_id=actor_id,
            name=require_text("name", name),
            community=require_text("community", community),
        )

    @event(Formed)
    def __init__(self, *, actor_id: UUID, name: str, community: str) -> None:
        self.name = name
        self.community = community
        self.memberships: list[Membership] = []
        # Each member's stretches in order, so a check is as quick in a team of a thousand.
        self._stretches: dict[UUID, list[Membership]] = {}

    def current_membership(self, member_id: UUID) -> Membership | None:
        latest = self._latest_membership(member_id)
        return latest if latest is not None and latest.until is None else None

    def role_on(self, member_id: UUID, day: date) -> TeamRole | None:
        """The member's role in this team on that day, or None if not a member then."""
        for membership in reversed(self._stretches.get(member_id, ())):
            if membership.covers(day):
                return membership.role
        return None

    def is_coordinator_on(self, member_id: UUID, day: date) -> bool:
        return self.role_on(member_id, day) is TeamRole.COORDINATOR

    def current_members(self) -> list[Membership]:
        return [m for m in self.memberships if m.until is None]

    def add_member(
        self, *, actor_id: UUID, member_id: UUID, role: TeamRole, effective_date: date
    ) -> None:
        """A member joins, or changes role; a new stretch never starts inside an old one."""
        role = TeamRole(role)
        current = self.current_membership(member_id)
        if current is not None and current.role is role:
            raise InvalidStateError("membership", member_id, f"already {role}", "add")
        latest = self._latest_membership(member_id)
        if latest is not None and effective_date < (latest.until or latest.since):
            raise InvalidRequestError(
                "effective_date",
                f"must not be before {latest.until or latest.since}, "
                "where the member's previous membership of this team ends",
            )
        self._member_joined(
            actor_id=actor_id,
            member_id=member_id,
            role=role.value,
            effective_date=effective_date,
        )

    @event(MemberJoined)
    def _member_joined(
        self, *, actor_id: UUID, member_id: UUID, role: str, effective_date: date
    ) -> None:
        self._close(member_id, effective_date)
        membership = Membership(member_id, TeamRole(role), effective_date)
        self.memberships.append(membership)
        self._stretches.setdefault(member_id, []).append(membership)

    def remove_member(self, *, actor_id: UUID, member_id: UUID, effective_date: date) -> None:
        """Leaving ends the current stretch; it cannot end before it began."""
        current = self.current_membership(member_id)
        if current is None:
            raise InvalidStateError("membership", member_id, "not a member", "end")
        if effective_date < current.since:
            raise InvalidRequestError(
                "effective_date",
                f"must not be before the membership began ({current.since})",
            )
        self._member_left(actor_id=actor_id, member_id=member_id, effective_date=effective_date)

    @event(MemberLeft)
    def _member_left(self, *, actor_id: UUID, member_id: UUID, effective_date: date) -> None:
        self._close(member_id, effective_date)

    def _latest_membership(self, member_id: UUID) -> Membership | None:
        stretches = self._stretches.get(member_id)
        return stretches[-1] if stretches else None

    def _close(self, member_id: UUID, until: date) -> None:
        """End the member's open stretch, if any: only the latest one can be open."""
        latest = self._latest_membership(member_id)
        if latest is None or latest.until is not None:
            return
        ended = Membership(member_id, latest.role, latest.since, until)
        self._stretches[member_id][-1] = ended
        # The same stretch in the team's list, searched from the end where it usually is.
        for index in range(len(self.memberships) - 1, -1, -1):
            if self.memberships[index] is latest:
                self.memberships[index] = ended
                return
