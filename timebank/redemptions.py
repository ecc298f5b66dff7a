"""Redemptions: a member spends minutes on a service a team delivers, in two phases."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.copying import ValueAttributes
from timebank.errors import InvalidStateError
from timebank.rules import MAX_TEXT_LENGTH, optional_text, require_minutes, require_text


class RedemptionStatus(StrEnum):
    HELD = "held"  # minutes reserved on the member's account, service not yet given
    FULFILLED = "fulfilled"  # service given; the reserved minutes are spent
    CANCELLED = "cancelled"  # called off; the reserved minutes are available again


class Redemption(ValueAttributes, Aggregate):
    """A request for care paid in minutes: held first, then fulfilled or cancelled."""

    TOPIC = "timebank:Redemption"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Redemption.Event"
        actor_id: UUID

    class Requested(Event, Aggregate.Created):
        """A member asked a team for a service; the minutes are held at once."""

        TOPIC = "timebank:Redemption.Requested"
        member_id: UUID
        team_id: UUID
        service: str
        minutes: int

    class Fulfilled(Event):
        """The team delivered the service; the held minutes are spent."""

        TOPIC = "timebank:Redemption.Fulfilled"

    class Cancelled(Event):
        """The redemption was called off; the held minutes are released."""

        TOPIC = "timebank:Redemption.Cancelled"
        reason: str | None

    @classmethod
    def request(
        cls,
        *,
        actor_id: UUID,
        member_id: UUID,
        team_id: UUID,
        service: str,
        minutes: int,
    ) -> Redemption:
        return cls(
            actor_id=actor_id,
            member_id=member_id,
            team_id=team_id,
            service=require_text("service", service),
            minutes=require_minutes("minutes", minutes),
        )

    @event(Requested)
    def __init__(
        self,
        *,
        actor_id: UUID,
        member_id: UUID,
        team_id: UUID,
        service: str,
        minutes: int,
    ) -> None:
        self.member_id = member_id
        self.team_id = team_id
        self.service = service
        self.minutes = minutes
        self.requested_by = actor_id
        self.status = RedemptionStatus.HELD
        self.reason: str | None = None

    def fulfil(self, *, actor_id: UUID) -> None:
        self._check_held("fulfil")
        self._fulfilled(actor_id=actor_id)

    @event(Fulfilled)
    def _fulfilled(self, *, actor_id: UUID) -> None:
        self.status = RedemptionStatus.FULFILLED

    def cancel(self, *, actor_id: UUID, reason: str | None = None) -> None:
        self._check_held("cancel")
        reason = optional_text("reason", reason, max_length=MAX_TEXT_LENGTH)
        self._cancelled(actor_id=actor_id, reason=reason)

    @event(Cancelled)
    def _cancelled(self, *, actor_id: UUID, reason: str | None) -> None:
        self.status = RedemptionStatus.CANCELLED
        self.reason = reason

    def _check_held(self, action: str) -> None:
        if self.status is not RedemptionStatus.HELD:
            raise InvalidStateError("redemption", self.id, self.status.value, action)
