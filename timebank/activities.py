"""Activities (场次): one clinic, one patrol, one lecture of a team, with who attended.

A coordinator records an activity the way the source stories count their work: a date, an
activity, a place, whom it served, and the attendees with the minutes each served. It
becomes one service log per attendee, each linked to the activity, in one save; whoever
records it certifies it (谁记录谁证明). An attendee added or removed later is an event of
its own: the activity's record is never edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.rules import (
    MAX_MINUTES_PER_LOG,
    MAX_TEXT_LENGTH,
    optional_text,
    require_minutes,
    require_service_date,
    require_text,
)

MAX_ATTENDEES = 500


@dataclass(frozen=True)
class Attendance:
    """One attendee of an activity: the minutes they served and the log that records it."""

    member_id: UUID
    minutes: int
    service_log_id: UUID


class Activity(Aggregate):
    """One session (场次) of a team's activity, and who attended it."""

    TOPIC = "timebank:Activity"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Activity.Event"
        actor_id: UUID

    class Recorded(Event, Aggregate.Created):
        """A coordinator recorded a session of the team: when, what, where, for whom, and
        each attendee's minutes with the service log that records them."""

        TOPIC = "timebank:Activity.Recorded"
        team_id: UUID
        service_date: date
        activity: str
        place: str | None
        beneficiaries: str | None
        attendees: list[list[Any]]  # [member id, minutes, service log id]

    class AttendeeAdded(Event):
        """Someone who attended was recorded afterwards, with the log that records them."""

        TOPIC = "timebank:Activity.AttendeeAdded"
        member_id: UUID
        minutes: int
        service_log_id: UUID

    class AttendeeRemoved(Event):
        """Someone recorded as attending did not: their log is taken back, with a reason."""

        TOPIC = "timebank:Activity.AttendeeRemoved"
        member_id: UUID
        service_log_id: UUID
        reason: str

    @classmethod
    def record(
        cls,
        *,
        activity_id: UUID,
        actor_id: UUID,
        team_id: UUID,
        service_date: date,
        activity: str,
        place: str | None,
        beneficiaries: str | None,
        attendees: Sequence[Attendance],
        today: date,
    ) -> Activity:
        """An activity of a past or present day, with one to 500 different attendees who
        each served 1 to 1440 minutes."""
        require_service_date("service_date", service_date, today=today)
        if not attendees:
            raise InvalidRequestError("attendees", "an activity has at least one attendee")
        if len(attendees) > MAX_ATTENDEES:
            raise InvalidRequestError("attendees", f"at most {MAX_ATTENDEES} attendees")
        seen: set[UUID] = set()
        for attendance in attendees:
            if attendance.member_id in seen:
                raise InvalidRequestError(
                    "attendees", f"member {attendance.member_id} is listed twice"
                )
            seen.add(attendance.member_id)
            require_minutes("minutes", attendance.minutes, high=MAX_MINUTES_PER_LOG)
        created: Activity = cls._create(
            cls.Recorded,
            id=activity_id,
            actor_id=actor_id,
            team_id=team_id,
            service_date=service_date,
            activity=require_text("activity", activity),
            place=optional_text("place", place),
            beneficiaries=optional_text("beneficiaries", beneficiaries, max_length=MAX_TEXT_LENGTH),
            attendees=[[a.member_id, a.minutes, a.service_log_id] for a in attendees],
        )
        return created

    @event(Recorded)
    def __init__(
        self,
        *,
        actor_id: UUID,
        team_id: UUID,
        service_date: date,
        activity: str,
        place: str | None,
        beneficiaries: str | None,
        attendees: list[list[Any]],
    ) -> None:
        self.team_id = team_id
        self.service_date = service_date
        self.activity = activity
        self.place = place
        self.beneficiaries = beneficiaries
        self.recorded_by = actor_id
        self.attendees: dict[UUID, Attendance] = {
            member: Attendance(member, minutes, log_id) for member, minutes, log_id in attendees
        }

    def add_attendee(
        self, *, actor_id: UUID, member_id: UUID, minutes: int, service_log_id: UUID
    ) -> None:
        if member_id in self.attendees:
            raise InvalidStateError("attendee", member_id, "already attending", "add")
        if len(self.attendees) >= MAX_ATTENDEES:
            raise InvalidRequestError("attendees", f"at most {MAX_ATTENDEES} attendees")
        require_minutes("minutes", minutes, high=MAX_MINUTES_PER_LOG)
        self._attendee_added(
            actor_id=actor_id, member_id=member_id, minutes=minutes, service_log_id=service_log_id
        )

    @event(AttendeeAdded)
    def _attendee_added(
        self, *, actor_id: UUID, member_id: UUID, minutes: int, service_log_id: UUID
    ) -> None:
        self.attendees = {
            **self.attendees,
            member_id: Attendance(member_id, minutes, service_log_id),
        }

    def remove_attendee(self, *, actor_id: UUID, member_id: UUID, reason: str) -> Attendance:
        """The attendee's log is taken back (by the caller, in the same save)."""
        attendance = self.attendees.get(member_id)
        if attendance is None:
            raise InvalidStateError("attendee", member_id, "not attending", "remove")
        self._attendee_removed(
            actor_id=actor_id,
            member_id=member_id,
            service_log_id=attendance.service_log_id,
            reason=require_text("reason", reason, max_length=MAX_TEXT_LENGTH),
        )
        return attendance

    @event(AttendeeRemoved)
    def _attendee_removed(
        self, *, actor_id: UUID, member_id: UUID, service_log_id: UUID, reason: str
    ) -> None:
        self.attendees = {m: a for m, a in self.attendees.items() if m != member_id}
