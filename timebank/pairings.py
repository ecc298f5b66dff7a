"""Care pairings (结对): a volunteer, or a whole team, paired with an elder to visit.

The source stories count pairs ("结对帮扶独居老人26户", "结成服务对子"), and a grid worker's daily
question is which of their elders nobody has visited lately: a pairing is a standing
relation, from a day on, that service logs name when they are one of its visits.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import MAX_TEXT_LENGTH, optional_text, require_date, require_text


class Pairing(Aggregate):
    """A volunteer (or, without one, the whole team) paired with a beneficiary."""

    TOPIC = "timebank:Pairing"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Pairing.Event"
        actor_id: UUID

    class Formed(Event, Aggregate.Created):
        """A team paired one of its volunteers (or itself) with an elder, from a day on."""

        TOPIC = "timebank:Pairing.Formed"
        team_id: UUID
        beneficiary_id: UUID
        volunteer_id: UUID | None
        since: date
        note: str | None

    class Ended(Event):
        """The pairing ended on the effective date (the elder moved, a new volunteer took
        over), saying why."""

        TOPIC = "timebank:Pairing.Ended"
        effective_date: date
        reason: str

    @classmethod
    def form(
        cls,
        *,
        actor_id: UUID,
        team_id: UUID,
        beneficiary_id: UUID,
        volunteer_id: UUID | None,
        since: date,
        note: str | None,
        today: date,
    ) -> Pairing:
        """A pairing starts on a past or present day; nobody is paired with themself."""
        require_date("since", since)
        if since > today:
            raise InvalidRequestError("since", "a pairing starts today or on a day past")
        if volunteer_id == beneficiary_id:
            raise InvalidRequestError("volunteer_id", "a volunteer cannot visit themself")
        return cls(
            actor_id=actor_id,
            team_id=team_id,
            beneficiary_id=beneficiary_id,
            volunteer_id=volunteer_id,
            since=since,
            note=optional_text("note", note),
        )

    @event(Formed)
    def __init__(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        beneficiary_id: UUID,
        volunteer_id: UUID | None,
        since: date,
        note: str | None,
    ) -> None:
        self.team_id = team_id
        self.beneficiary_id = beneficiary_id
        self.volunteer_id = volunteer_id
        self.since = since
        self.note = note
        self.until: date | None = None
        self.reason: str | None = None

    def is_active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)

    def end(self, *, actor_id: UUID, effective_date: date, reason: str, today: date) -> None:
        """A pairing ends once, not before it began, not in the future."""
        if self.until is not None:
            raise InvalidStateError("pairing", self.id, "ended", "end")
        if effective_date < self.since:
            raise InvalidRequestError("effective_date", f"must not be before {self.since}")
        if effective_date > today:
            raise InvalidRequestError("effective_date", "a pairing cannot end in the future")
        self._ended(
            actor_id=actor_id,
            effective_date=effective_date,
            reason=require_text("reason", reason, max_length=MAX_TEXT_LENGTH),
        )

    @event(Ended)
    def _ended(self, *, actor_id: UUID, effective_date: date, reason: str) -> None:
        self.until = effective_date
        self.reason = reason
