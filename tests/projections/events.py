"""Literal ledger events for the fold tests, built with the real event classes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from timebank.members import Member
from timebank.service_logs import ServiceLog
from timebank.teams import Team

ADMIN = uuid4()
COORDINATOR = uuid4()
RECORDED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def make(event_class: Any, **fields: Any) -> AggregateEvent:
    """An event of a class the library made a dataclass at run time (mypy cannot see it)."""
    event: AggregateEvent = event_class(**fields)
    return event


def member(member_id: UUID, name: str, at: datetime = RECORDED) -> AggregateEvent:
    return make(
        Member.Registered,
        originator_id=member_id,
        originator_version=1,
        timestamp=at,
        originator_topic=get_topic(Member),
        actor_id=ADMIN,
        name=name,
        birth_date=None,
        roles=[],
    )


def team(team_id: UUID, name: str, community: str) -> AggregateEvent:
    return make(
        Team.Formed,
        originator_id=team_id,
        originator_version=1,
        timestamp=RECORDED,
        originator_topic=get_topic(Team),
        actor_id=ADMIN,
        name=name,
        community=community,
        founded_on=date(2020, 1, 1),
    )


def joined(team_id: UUID, member_id: UUID, version: int, role: str = "volunteer") -> AggregateEvent:
    return make(
        Team.MemberJoined,
        originator_id=team_id,
        originator_version=version,
        timestamp=RECORDED,
        actor_id=ADMIN,
        member_id=member_id,
        role=role,
        effective_date=date(2020, 1, 1),
        accepted=True,
    )


def logged(  # noqa: PLR0917
    log_id: UUID,
    volunteer: UUID,
    team_id: UUID,
    service_date: date,
    minutes: int,
    activity: str = "home care",
) -> AggregateEvent:
    return make(
        ServiceLog.Logged,
        originator_id=log_id,
        originator_version=1,
        timestamp=RECORDED,
        originator_topic=get_topic(ServiceLog),
        actor_id=volunteer,
        volunteer_id=volunteer,
        team_id=team_id,
        service_date=service_date,
        minutes=minutes,
        activity=activity,
        beneficiary=None,
        note=None,
        source=None,
        activity_id=None,
        pairing_id=None,
    )


def approved(log_id: UUID, minutes: int, at: datetime = RECORDED) -> AggregateEvent:
    return make(
        ServiceLog.Approved,
        originator_id=log_id,
        originator_version=2,
        timestamp=at,
        actor_id=COORDINATOR,
        minutes=minutes,
        source=None,
        reason=None,
        certified_by_recorder=False,
    )


def rejected(log_id: UUID) -> AggregateEvent:
    return make(
        ServiceLog.Rejected,
        originator_id=log_id,
        originator_version=2,
        timestamp=RECORDED,
        actor_id=COORDINATOR,
        reason="not confirmed",
    )


def reversed_(log_id: UUID, at: datetime = RECORDED) -> AggregateEvent:
    return make(
        ServiceLog.Reversed,
        originator_id=log_id,
        originator_version=3,
        timestamp=at,
        actor_id=COORDINATOR,
        reason="logged twice",
    )


def served(
    volunteer: UUID, team_id: UUID, service_date: date, minutes: int, activity: str = "home care"
) -> list[AggregateEvent]:
    """A log approved in full: the two events."""
    log_id = uuid4()
    return [
        logged(log_id, volunteer, team_id, service_date, minutes, activity),
        approved(log_id, minutes),
    ]
