"""Service teams (服务小队) and the dated memberships of their volunteers and coordinators.

A membership is added by an admin or a coordinator of the team, but the team's
coordinators see the member's balance and statement only once the member (or their agent)
has accepted it: enrolling someone is not a reason to read their data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import require_text
from timebank.upcasting import upcast_from


class TeamRole(StrEnum):
    """What a member does in one team."""

    VOLUNTEER = "volunteer"  # logs their own service
    COORDINATOR = "coordinator"  # also reviews the team's logs and fulfils redemptions


@dataclass(frozen=True)
class Membership:
    """One stretch of a member's time in a team, from `since` up to (not on) `until`;
    `appointed_by` is who added it. A stretch withdrawn before it began covers no day."""

    member_id: UUID
    role: TeamRole
    since: date
    until: date | None = None
    appointed_by: UUID | None = None

    def covers(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)

    @property
    def empty(self) -> bool:
        return self.until is not None and self.until <= self.since


class Team(Aggregate):
    """A team delivering one kind of service in a community; it keeps its members' history."""

    TOPIC = "timebank:Team"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Team.Event"
        actor_id: UUID

    class Formed(Event, Aggregate.Created):
        """A team was set up in a community; it has served since `founded_on` (version 2:
        teams formed before had no founding day, and take none)."""

        TOPIC = "timebank:Team.Formed"
        class_version = 2
        name: str
        community: str
        founded_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["founded_on"] = None

    class MemberJoined(Event):
        """A member joined, or took a new role, from the effective date on. `accepted`
        is true when the member themself agreed to it (version 1 memberships were all
        made before members were asked, and count as accepted)."""

        TOPIC = "timebank:Team.MemberJoined"
        class_version = 2
        member_id: UUID
        role: str
        effective_date: date
        accepted: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["accepted"] = True

    class MembershipAccepted(Event):
        """The member (or their agent) accepted their membership: from now on the team's
        coordinators may read their balance and statement."""

        TOPIC = "timebank:Team.MembershipAccepted"
        member_id: UUID

    class MemberLeft(Event):
        """A member left the team on the effective date; their history stays, and a
        stretch that was to begin later is withdrawn."""

        TOPIC = "timebank:Team.MemberLeft"
        member_id: UUID
        effective_date: date

    @classmethod
    def form(
        cls, *, actor_id: UUID, name: str, community: str, founded_on: date, today: date
    ) -> Team:
        """A team may have served before it is entered in the ledger, never from tomorrow."""
        if founded_on > today:
            raise InvalidRequestError("founded_on", "a team cannot be founded in the future")
        return cls(
            actor_id=actor_id,
            name=require_text("name", name),
            community=require_text("community", community),
            founded_on=founded_on,
        )

    @event(Formed)
    def __init__(
        self, *, actor_id: UUID, name: str, community: str, founded_on: date | None
    ) -> None:
        self.name = name
        self.community = community
        self.founded_on = founded_on
        self.memberships: list[Membership] = []
        # Each member's stretches in order, so a check is as quick in a team of a thousand.
        self._stretches: dict[UUID, list[Membership]] = {}
        self.accepted: set[UUID] = set()

    def current_membership(self, member_id: UUID) -> Membership | None:
        latest = self._latest_membership(member_id)
        return latest if latest is not None and latest.until is None else None

    def role_on(self, member_id: UUID, day: date) -> TeamRole | None:
        """The member's role in this team on that day, or None if not a member then."""
        for membership in reversed(self._stretches.get(member_id, ())):
            if membership.covers(day):
                return membership.role
        return None

    def membership_on(self, member_id: UUID, day: date) -> Membership | None:
        for membership in reversed(self._stretches.get(member_id, ())):
            if membership.covers(day):
                return membership
        return None

    def is_coordinator_on(self, member_id: UUID, day: date) -> bool:
        return self.role_on(member_id, day) is TeamRole.COORDINATOR

    def has_accepted(self, member_id: UUID) -> bool:
        """The member accepted their membership (and has not left since)."""
        return member_id in self.accepted

    def current_members(self) -> list[Membership]:
        return [m for m in self.memberships if m.until is None]

    def check_effective_date(self, field: str, day: date, *, today: date, lead_days: int) -> None:
        """Memberships start and end within the team's life: not before it was founded,
        and not more than `lead_days` ahead (a date far ahead would keep an old role in
        force until then)."""
        if self.founded_on is not None and day < self.founded_on:
            raise InvalidRequestError(
                field, f"must not be before the team was founded ({self.founded_on})"
            )
        latest = today + timedelta(days=lead_days)
        if day > latest:
            raise InvalidRequestError(
                field, f"must be at most {lead_days} days ahead (on or before {latest})"
            )

    def add_member(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        role: TeamRole,
        effective_date: date,
        accepted: bool,
        today: date,
        lead_days: int,
    ) -> None:
        """A member joins, or changes role; a new stretch never starts inside an old one."""
        role = TeamRole(role)
        self.check_effective_date(
            "effective_date", effective_date, today=today, lead_days=lead_days
        )
        current = self.current_membership(member_id)
        if current is not None and current.role is role:
            raise InvalidStateError("membership", member_id, f"already {role}", "add")
        boundary = self._last_boundary(member_id)
        if boundary is not None and effective_date < boundary:
            raise InvalidRequestError(
                "effective_date",
                f"must not be before {boundary}, "
                "where the member's previous membership of this team ends",
            )
        self._member_joined(
            actor_id=actor_id,
            member_id=member_id,
            role=role.value,
            effective_date=effective_date,
            accepted=accepted,
        )

    @event(MemberJoined)
    def _member_joined(
        self, *, actor_id: UUID, member_id: UUID, role: str, effective_date: date, accepted: bool
    ) -> None:
        self._close(member_id, effective_date)
        membership = Membership(member_id, TeamRole(role), effective_date, None, actor_id)
        self.memberships.append(membership)
        self._stretches.setdefault(member_id, []).append(membership)
        if accepted:
            self.accepted.add(member_id)

    def accept(self, *, actor_id: UUID, member_id: UUID) -> None:
        """A member accepts a membership they hold, once."""
        if self.current_membership(member_id) is None:
            raise InvalidStateError("membership", member_id, "not a member", "accept")
        if member_id in self.accepted:
            raise InvalidStateError("membership", member_id, "already accepted", "accept")
        self._membership_accepted(actor_id=actor_id, member_id=member_id)

    @event(MembershipAccepted)
    def _membership_accepted(self, *, actor_id: UUID, member_id: UUID) -> None:
        self.accepted.add(member_id)

    def remove_member(
        self, *, actor_id: UUID, member_id: UUID, effective_date: date, today: date, lead_days: int
    ) -> None:
        """Leaving ends the current stretch on the effective date; a stretch that was to
        begin later (a role change dated ahead) is withdrawn with it."""
        self.check_effective_date(
            "effective_date", effective_date, today=today, lead_days=lead_days
        )
        if self.current_membership(member_id) is None:
            raise InvalidStateError("membership", member_id, "not a member", "end")
        self._member_left(actor_id=actor_id, member_id=member_id, effective_date=effective_date)

    @event(MemberLeft)
    def _member_left(self, *, actor_id: UUID, member_id: UUID, effective_date: date) -> None:
        for stretch in self._stretches.get(member_id, ()):
            if stretch.until is None or stretch.until > effective_date:
                self._replace(stretch, max(stretch.since, effective_date))
        self.accepted.discard(member_id)

    def _latest_membership(self, member_id: UUID) -> Membership | None:
        stretches = self._stretches.get(member_id)
        return stretches[-1] if stretches else None

    def _last_boundary(self, member_id: UUID) -> date | None:
        """Where a new stretch may start at the earliest: the end of the last stretch that
        covers any day (an open one ends where the new one begins, so its start)."""
        for stretch in reversed(self._stretches.get(member_id, ())):
            if not stretch.empty:
                return stretch.until or stretch.since
        return None

    def _close(self, member_id: UUID, until: date) -> None:
        """End the member's open stretch, if any: only the latest one can be open."""
        latest = self._latest_membership(member_id)
        if latest is None or latest.until is not None:
            return
        self._replace(latest, until)

    def _replace(self, stretch: Membership, until: date) -> None:
        ended = Membership(
            stretch.member_id, stretch.role, stretch.since, until, stretch.appointed_by
        )
        stretches = self._stretches[stretch.member_id]
        stretches[next(i for i, s in enumerate(stretches) if s is stretch)] = ended
        # The same stretch in the team's list, searched from the end where it usually is.
        for index in range(len(self.memberships) - 1, -1, -1):
            if self.memberships[index] is stretch:
                self.memberships[index] = ended
                return
