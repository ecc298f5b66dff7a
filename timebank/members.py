"""Members of the time bank: volunteers, elders, coordinators, auditors and admins."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import require_date, require_text


class GlobalRole(StrEnum):
    """Roles that hold across every team."""

    ADMIN = "admin"  # registers members and teams, may act in any team
    AUDITOR = "auditor"  # reads everything, changes nothing


class Member(Aggregate):
    """A person with a time account; global roles say what they may do everywhere."""

    TOPIC = "timebank:Member"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Member.Event"
        actor_id: UUID

    class Registered(Event, Aggregate.Created):
        """A person joined the time bank; their account opens with them."""

        TOPIC = "timebank:Member.Registered"
        name: str
        birth_date: date | None
        roles: list[str]

    class RoleGranted(Event):
        """A member was made admin or auditor."""

        TOPIC = "timebank:Member.RoleGranted"
        role: str

    class RoleRevoked(Event):
        """A member stopped being admin or auditor."""

        TOPIC = "timebank:Member.RoleRevoked"
        role: str

    @classmethod
    def register(
        cls,
        *,
        actor_id: UUID,
        name: str,
        birth_date: date | None,
        roles: list[GlobalRole],
        today: date,
    ) -> Member:
        """A name is required; a birth date, when given, is not in the future nor before
        1900."""
        name = require_text("name", name)
        if birth_date is not None:
            require_date("birth_date", birth_date)
            if birth_date > today:
                raise InvalidRequestError("birth_date", "a birth date cannot be in the future")
        unique_roles = sorted({GlobalRole(role).value for role in roles})
        return cls(actor_id=actor_id, name=name, birth_date=birth_date, roles=unique_roles)

    @event(Registered)
    def __init__(
        self, *, actor_id: UUID, name: str, birth_date: date | None, roles: list[str]
    ) -> None:
        self.name = name
        self.birth_date = birth_date
        self.roles: set[str] = set(roles)

    @property
    def is_admin(self) -> bool:
        return GlobalRole.ADMIN in self.roles

    @property
    def is_auditor(self) -> bool:
        return GlobalRole.AUDITOR in self.roles

    def age_on(self, day: date) -> int | None:
        """Whole years of age on the given day, when the birth date is known."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def grant(self, *, actor_id: UUID, role: GlobalRole) -> None:
        if role in self.roles:
            raise InvalidStateError("member", self.id, f"already {role}", f"grant {role}")
        self._role_granted(actor_id=actor_id, role=GlobalRole(role).value)

    @event(RoleGranted)
    def _role_granted(self, *, actor_id: UUID, role: str) -> None:
        self.roles.add(role)

    def revoke(self, *, actor_id: UUID, role: GlobalRole) -> None:
        if role not in self.roles:
            raise InvalidStateError("member", self.id, f"not {role}", f"revoke {role}")
        self._role_revoked(actor_id=actor_id, role=GlobalRole(role).value)

    @event(RoleRevoked)
    def _role_revoked(self, *, actor_id: UUID, role: str) -> None:
        self.roles.discard(role)
