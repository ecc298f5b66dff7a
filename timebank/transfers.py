"""Transfers (转赠): a member gives minutes to another member, immediately."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError
from timebank.rules import optional_text, require_minutes
from timebank.upcasting import upcast_from


class Transfer(Aggregate):
    """The record of one gift of minutes; both accounts move in the same save."""

    TOPIC = "timebank:Transfer"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Transfer.Event"
        actor_id: UUID

    class Made(Event, Aggregate.Created):
        """Minutes went from one member's available minutes to another's balance.

        Version 2 records the giver's consent as a redemption does (`consent`,
        `consented_by`, `credential_id`); version 1 gifts were all made by the giver."""

        TOPIC = "timebank:Transfer.Made"
        class_version = 2
        from_member_id: UUID
        to_member_id: UUID
        minutes: int
        note: str | None
        consent: str
        consented_by: UUID | None
        credential_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["consent"] = "member"
            state["consented_by"] = state["from_member_id"]
            state["credential_id"] = None

    @classmethod
    def make(
        cls,
        *,
        actor_id: UUID,
        from_member_id: UUID,
        to_member_id: UUID,
        minutes: int,
        note: str | None,
        consent: str,
        consented_by: UUID,
        credential_id: UUID | None,
    ) -> Transfer:
        """Minutes go to someone else; given on the giver's behalf, never to whoever asked."""
        if from_member_id == to_member_id:
            raise InvalidRequestError("to_member_id", "minutes cannot be given to oneself")
        if actor_id != from_member_id and to_member_id == actor_id:
            raise InvalidRequestError(
                "to_member_id", "minutes given on a member's behalf cannot go to whoever asks"
            )
        return cls(
            actor_id=actor_id,
            from_member_id=from_member_id,
            to_member_id=to_member_id,
            minutes=require_minutes("minutes", minutes),
            note=optional_text("note", note),
            consent=consent,
            consented_by=consented_by,
            credential_id=credential_id,
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
        consent: str,
        consented_by: UUID | None,
        credential_id: UUID | None,
    ) -> None:
        self.from_member_id = from_member_id
        self.to_member_id = to_member_id
        self.minutes = minutes
        self.note = note
        self.made_by = actor_id
        self.consent = consent
        self.consented_by = consented_by
        self.credential_id = credential_id
