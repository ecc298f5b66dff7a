"""Transfers (转赠): a member gives minutes to another member, immediately."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError
from timebank.rules import optional_text, require_minutes


class Transfer(Aggregate):
    """The record of one gift of minutes; both accounts move in the same save."""

    TOPIC = "timebank:Transfer"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Transfer.Event"
        actor_id: UUID

    class Made(Event, Aggregate.Created):
        """Minutes went from one member's available minutes to another's balance."""

        TOPIC = "timebank:Transfer.Made"
        from_member_id: UUID
        to_member_id: UUID
        minutes: int
        note: str | None

    @classmethod
    def make(
        cls,
        *,
        actor_id: UUID,
        from_member_id: UUID,
        to_member_id: UUID,
        minutes: int,
        note: str | None,
    ) -> Transfer:
        if from_member_id == to_member_id:
            raise InvalidRequestError("to_member_id", "minutes cannot be given to oneself")
        return cls(
            actor_id=actor_id,
            from_member_id=from_member_id,
            to_member_id=to_member_id,
            minutes=require_minutes("minutes", minutes),
            note=optional_text("note", note),
        )

    @event(Made)
    def __init__(
        self,
        *,
        actor_id: UUID,
        from_member_id: UUID,
        to_member_id: UUID,
        minutes: int,
        note: str | None,
    ) -> None:
        self.from_member_id = from_member_id
        self.to_member_id = to_member_id
        self.minutes = minutes
        self.note = note
        self.made_by = actor_id
