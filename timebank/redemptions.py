"""Redemptions: a member spends minutes on a service a team delivers, in two phases."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from timebank.copying import ValueAttributes
from timebank.errors import InvalidStateError, PermissionDeniedError
from timebank.rules import MAX_TEXT_LENGTH, optional_text, require_minutes, require_text
from timebank.upcasting import upcast_from


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
        """A member asked a team for a service; the minutes are held at once.

        Version 2 records the member's consent: `consent` is how they agreed (`member`:
        they asked themselves; `agent`: an agent they registered asked; `card`: their
        card's code was given at the counter), `consented_by` who agreed (the member or
        the agent) and `credential_id` the credential the request was signed in with.
        Version 1 requests did not record it (`unrecorded`). Version 3 records the
        rules' version that allowed it (`policy_version`; 0 before rules were kept in the
        ledger) and the hardship stated for a member younger than the rules' minimum age
        (`hardship`), where the rules make that exception."""

        TOPIC = "timebank:Redemption.Requested"
        class_version = 3
        member_id: UUID
        team_id: UUID
        service: str
        minutes: int
        consent: str
        consented_by: UUID | None
        credential_id: UUID | None
        hardship: str | None
        policy_version: int
        decided_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_from(state, 1)
            state["consent"] = "unrecorded"
            state["consented_by"] = None
            state["credential_id"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            upcast_from(state, 2)
            state["hardship"] = None
            state["policy_version"] = 0
            state["decided_on"] = None

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
        consent: str,
        consented_by: UUID,
        credential_id: UUID | None,
        hardship: str | None = None,
        policy_version: int,
        decided_on: date | None = None,
    ) -> Redemption:
        return cls(
            actor_id=actor_id,
            member_id=member_id,
            team_id=team_id,
            service=require_text("service", service),
            minutes=require_minutes("minutes", minutes),
            consent=consent,
            consented_by=consented_by,
            credential_id=credential_id,
            hardship=optional_text("hardship", hardship, max_length=MAX_TEXT_LENGTH),
            policy_version=policy_version,
            decided_on=decided_on,
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
        consent: str,
        consented_by: UUID | None,
        credential_id: UUID | None,
        hardship: str | None,
        policy_version: int,
        decided_on: date | None,
    ) -> None:
        self.hardship = hardship
        self.policy_version = policy_version
        self.member_id = member_id
        self.team_id = team_id
        self.service = service
        self.minutes = minutes
        self.requested_by = actor_id
        self.consent = consent
        self.consented_by = consented_by
        self.credential_id = credential_id
        self.status = RedemptionStatus.HELD
        self.reason: str | None = None

    @property
    def on_behalf(self) -> bool:
        """Someone other than the member asked for it."""
        return self.requested_by != self.member_id

    def fulfil(self, *, actor_id: UUID) -> None:
        """The delivering team confirms the service; whoever asked on the member's behalf
        does not also confirm it, so that nobody spends a member's minutes alone."""
        self._check_held("fulfil")
        if self.on_behalf and actor_id == self.requested_by:
            raise PermissionDeniedError(
                actor_id,
                f"fulfil redemption {self.id}",
                "they asked for it on the member's behalf; someone else confirms the service",
            )
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
