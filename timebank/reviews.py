"""Reviews of many service logs in one request: each log decided on its own, the answer
kept so that the repeat of the request gives the same one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

MAX_DECISIONS = 200


@dataclass(frozen=True)
class Decision:
    """What a reviewer decided on one log: approve (all, or `minutes` of it, saying why
    fewer) or reject (saying why)."""

    service_log_id: UUID
    action: str  # approve, reject
    minutes: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one decision: the log's new status, or why it was refused."""

    service_log_id: UUID
    outcome: str  # approved, rejected, refused
    code: str | None = None  # why it was refused: not_found, forbidden, invalid_state, ...
    message: str | None = None

    def as_list(self) -> list[Any]:
        return [self.service_log_id, self.outcome, self.code, self.message]


class Review(Aggregate):
    """The outcomes of one request's decisions, in the order they were asked."""

    TOPIC = "timebank:Review"

    class Event(Aggregate.Event):
        TOPIC = "timebank:Review.Event"
        actor_id: UUID

    class Recorded(Event, Aggregate.Created):
        """A reviewer decided on several logs at once; each outcome is the log's own (the
        decided ones are saved with this record, in one transaction)."""

        TOPIC = "timebank:Review.Recorded"
        outcomes: list[list[Any]]  # [log id, outcome, code, message]

    @event(Recorded)
    def __init__(self, *, actor_id: UUID, outcomes: list[list[Any]]) -> None:
        self.reviewed_by = actor_id
        self.outcomes = [
            Outcome(log, outcome, code, message) for log, outcome, code, message in outcomes
        ]
