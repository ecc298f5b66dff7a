"""Service logs: a volunteer's hours of service, reviewed once by a coordinator."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.copying import ValueAttributes
from timebank.errors import (
    InvalidStateError,
    PermissionDeniedError,
)
from timebank.rules import (
    MAX_MINUTES_PER_LOG,
    MAX_TEXT_LENGTH,
    optional_text,
    require_minutes,
    require_service_date,
    require_text,
)
from timebank.upcasting import upcast_from


class ServiceStatus(StrEnum):
    PENDING = "pending"  # logged, awaiting review; not spendable
    APPROVED = "approved"  # credited to the volunteer's account
    REJECTED = "rejected"  # never credited
    REVERSED = "reversed"  # credited, then taken back by a compensating event


class ServiceLog(ValueAttributes, Aggregate):
    """One service given on one day; it earns minutes only once approved."""

    TOPIC = "timebank:ServiceLog"

    class Event(Aggregate.Event):
        TOPIC = "timebank:ServiceLog.Event"
        actor_id: UUID

    class Logged(Event, Aggregate.Created):
        """Service was recorded, by the volunteer or by a coordinator on their behalf.

        Version 2 names where the record came from (`source`: an import of paper
        records, say); version 1 events were all entered directly. Version 3 names the
        activity (场次) the service was part of, when a coordinator recorded one
        (`activity_id`), and the care pairing (结对) it was a visit of (`pairing_id`).
        """

        TOPIC = "timebank:ServiceLog.Logged"
        class_version = 3
        volunteer_id: UUID
        team_id: UUID
        service_date: date
        minutes: int
        activity: str
        beneficiary: str | None
        note: str | None
        source: str | None
        activity_id: UUID | None
        pairing_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["source"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            upcast_from(state, 2)
            state["activity_id"] = None
            state["pairing_id"] = None

    class Approved(Event):
        """A coordinator confirmed the service; approved minutes never exceed those logged.

        Version 2 names the import an approval came with, like `Logged`. Version 3 says
        why fewer minutes were approved than logged (`reason`), and marks a credit that
        its own recorder certified (`certified_by_recorder`: a coordinator who logged the
        service on a volunteer's behalf and approved it, 谁记录谁证明); approvals before
        version 3 did not record it (None).
        """

        TOPIC = "timebank:ServiceLog.Approved"
        class_version = 3
        minutes: int
        source: str | None
        reason: str | None
        certified_by_recorder: bool | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["source"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            upcast_from(state, 2)
            state["reason"] = None
            state["certified_by_recorder"] = None

    class Rejected(Event):
        """A coordinator refused the service, saying why; nothing is credited."""

        TOPIC = "timebank:ServiceLog.Rejected"
        reason: str

    class Reversed(Event):
        """An approval was taken back, with a reason; the earlier events stay as they were."""

        TOPIC = "timebank:ServiceLog.Reversed"
        reason: str

    @classmethod
    def log(
        cls,
        *,
        actor_id: UUID,
        volunteer_id: UUID,
        team_id: UUID,
        service_date: date,
        minutes: int,
        activity: str,
        beneficiary: str | None,
        note: str | None,
        today: date,
        source: str | None = None,
        activity_id: UUID | None = None,
        pairing_id: UUID | None = None,
    ) -> ServiceLog:
        """Service is logged for a past or present day (not before 1900), 1 to 1440 minutes
        at a time."""
        require_service_date("service_date", service_date, today=today)
        return cls(
            actor_id=actor_id,
            volunteer_id=volunteer_id,
            team_id=team_id,
            service_date=service_date,
            minutes=require_minutes("minutes", minutes, high=MAX_MINUTES_PER_LOG),
            activity=require_text("activity", activity),
            beneficiary=optional_text("beneficiary", beneficiary),
            note=optional_text("note", note),
            source=source,
            activity_id=activity_id,
            pairing_id=pairing_id,
        )

    @event(Logged)
    def __init__(
        self,
        *,
        actor_id: UUID,
        volunteer_id: UUID,
        team_id: UUID,
        service_date: date,
        minutes: int,
        activity: str,
        beneficiary: str | None,
        note: str | None,
        source: str | None,
        activity_id: UUID | None,
        pairing_id: UUID | None,
    ) -> None:
        self.volunteer_id = volunteer_id
        self.team_id = team_id
        self.service_date = service_date
        self.minutes = minutes
        self.activity = activity
        self.beneficiary = beneficiary
        self.note = note
        self.logged_by = actor_id
        self.source = source
        self.activity_id = activity_id
        self.pairing_id = pairing_id
        self.status = ServiceStatus.PENDING
        self.approved_minutes: int | None = None
        self.reason: str | None = None
        self.approved_by: UUID | None = None
        self.certified_by_recorder: bool | None = None

    @property
    def credited_minutes(self) -> int:
        """What this log currently contributes to the volunteer's earned minutes."""
        if self.status is ServiceStatus.APPROVED and self.approved_minutes is not None:
            return self.approved_minutes
        return 0

    def approve(
        self,
        *,
        actor_id: UUID,
        minutes: int | None = None,
        reason: str | None = None,
        source: str | None = None,
    ) -> None:
        """Approve once, all or part of the minutes logged; never one's own service. A
        reason says why fewer minutes were approved than logged."""
        self._check_reviewer(actor_id, "approve")
        self._check_status(ServiceStatus.PENDING, "approve")
        approved = self.minutes if minutes is None else minutes
        require_minutes("minutes", approved, high=self.minutes)
        self._approved(
            actor_id=actor_id,
            minutes=approved,
            source=source,
            reason=optional_text("reason", reason, max_length=MAX_TEXT_LENGTH),
            certified_by_recorder=actor_id == self.logged_by,
        )

    @event(Approved)
    def _approved(
        self,
        *,
        actor_id: UUID,
        minutes: int,
        source: str | None,
        reason: str | None,
        certified_by_recorder: bool | None,
    ) -> None:
        self.status = ServiceStatus.APPROVED
        self.approved_minutes = minutes
        self.reason = reason
        self.approved_by = actor_id
        self.certified_by_recorder = certified_by_recorder

    def reject(self, *, actor_id: UUID, reason: str) -> None:
        """Reject once, with a reason the volunteer can read."""
        self._check_reviewer(actor_id, "reject")
        self._check_status(ServiceStatus.PENDING, "reject")
        reason = require_text("reason", reason, max_length=MAX_TEXT_LENGTH, lines=True)
        self._rejected(actor_id=actor_id, reason=reason)

    @event(Rejected)
    def _rejected(self, *, actor_id: UUID, reason: str) -> None:
        self.status = ServiceStatus.REJECTED
        self.reason = reason

    def reverse(self, *, actor_id: UUID, reason: str) -> None:
        """Only an approved log is reversed, with a reason, by a compensating event."""
        self._check_reviewer(actor_id, "reverse")
        self._check_status(ServiceStatus.APPROVED, "reverse")
        reason = require_text("reason", reason, max_length=MAX_TEXT_LENGTH, lines=True)
        self._reversed(actor_id=actor_id, reason=reason)

    @event(Reversed)
    def _reversed(self, *, actor_id: UUID, reason: str) -> None:
        self.status = ServiceStatus.REVERSED
        self.reason = reason

    def _check_reviewer(self, actor_id: UUID, action: str) -> None:
        if actor_id == self.volunteer_id:
            raise PermissionDeniedError(
                actor_id, f"{action} service log {self.id}", "it is their own service"
            )

    def _check_status(self, expected: ServiceStatus, action: str) -> None:
        if self.status is not expected:
            raise InvalidStateError("service log", self.id, self.status.value, action)
