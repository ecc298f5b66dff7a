"""Service logs: logging, review exactly once, reversal; given events -> one command -> events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy
from datetime import date, timedelta
from typing import cast
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import given
from hypothesis import strategies as st

from timebank.errors import InvalidRequestError, InvalidStateError, PermissionDeniedError
from timebank.service_logs import ServiceLog, ServiceStatus

TODAY = date(2026, 11, 20)
YESTERDAY = date(2026, 11, 19)
VOLUNTEER_ID = uuid4()
COORDINATOR_ID = uuid4()
TEAM_ID = uuid4()


def log_service(
    *,
    actor_id: UUID = VOLUNTEER_ID,
    service_date: date = YESTERDAY,
    minutes: int = 90,
    activity: str = "Home care for an elder",
    beneficiary: str | None = "Grandma Zhang",
    note: str | None = None,
) -> ServiceLog:
    return ServiceLog.log(
        actor_id=actor_id,
        volunteer_id=VOLUNTEER_ID,
        team_id=TEAM_ID,
        service_date=service_date,
        minutes=minutes,
        activity=activity,
        beneficiary=beneficiary,
        note=note,
        today=TODAY,
    )


def pending(minutes: int = 90) -> ServiceLog:
    """Given: 90 minutes logged by the volunteer, awaiting review."""
    log = log_service(minutes=minutes)
    log.collect_events()
    return log


def approved(minutes: int = 60) -> ServiceLog:
    """Given: 90 minutes logged, of which the coordinator approved `minutes`."""
    log = pending()
    log.approve(actor_id=COORDINATOR_ID, minutes=minutes)
    log.collect_events()
    return log


def rejected() -> ServiceLog:
    """Given: 90 minutes logged and rejected by the coordinator."""
    log = pending()
    log.reject(actor_id=COORDINATOR_ID, reason="Travel time is not service time")
    log.collect_events()
    return log


def reversed_log() -> ServiceLog:
    """Given: 90 minutes logged, 60 approved, then the approval reversed."""
    log = approved(60)
    log.reverse(actor_id=COORDINATOR_ID, reason="Logged twice")
    log.collect_events()
    return log


# Logging


def test_logging_records_who_served_what_when_how_long_and_for_whom() -> None:
    log = log_service(
        activity="  Free haircut ", beneficiary=" Grandpa Li ", note=" at home ", minutes=45
    )

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Logged)
    assert e.actor_id == VOLUNTEER_ID
    assert e.volunteer_id == VOLUNTEER_ID
    assert e.team_id == TEAM_ID
    assert e.service_date == YESTERDAY
    assert e.minutes == 45
    assert e.activity == "Free haircut"
    assert e.beneficiary == "Grandpa Li"
    assert e.note == "at home"
    assert log.status is ServiceStatus.PENDING
    assert log.credited_minutes == 0
    assert log.approved_minutes is None


def test_a_coordinator_can_log_on_behalf_of_a_volunteer() -> None:
    log = log_service(actor_id=COORDINATOR_ID)

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Logged)
    assert e.actor_id == COORDINATOR_ID
    assert e.volunteer_id == VOLUNTEER_ID
    assert log.logged_by == COORDINATOR_ID
    assert log.volunteer_id == VOLUNTEER_ID


@given(st.integers(min_value=1, max_value=24 * 60))
def test_any_whole_number_of_minutes_from_1_to_1440_can_be_logged(minutes: int) -> None:
    log = log_service(minutes=minutes)

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Logged)
    assert e.minutes == minutes
    assert log.minutes == minutes


@given(st.integers(max_value=0) | st.integers(min_value=24 * 60 + 1))
def test_minutes_outside_1_to_1440_are_refused(minutes: int) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        log_service(minutes=minutes)

    assert refused.value.field == "minutes"


@pytest.mark.parametrize("minutes", [True, False, 90.0, 1.5, "90"])
def test_minutes_that_are_not_a_whole_number_are_refused(minutes: object) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        log_service(minutes=cast("int", minutes))

    assert refused.value.field == "minutes"


def test_service_cannot_be_logged_for_a_day_that_has_not_come() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        log_service(service_date=TODAY + timedelta(days=1))

    assert refused.value.field == "service_date"


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31)])
def test_service_before_1900_is_refused_as_a_slip(day: date) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        log_service(service_date=day)

    assert (refused.value.field, refused.value.message) == (
        "service_date",
        "must not be before 1900-01-01",
    )


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("activity", "care\x01\x1b[31m"),
        ("activity", "\u200b\u200b"),
        ("activity", "home \u202ecare"),
        ("beneficiary", "Grandma\u202e Zhang"),
        ("note", "bathed\x00and\x07fed"),
    ],
)
def test_texts_that_hide_controls_or_nothing_are_refused(field: str, text: str) -> None:
    """Whatever the entry point (API, import, command line), the aggregate decides."""
    with pytest.raises(InvalidRequestError) as refused:
        log_service(**{field: text})  # type: ignore[arg-type]

    assert refused.value.field == field


def test_a_note_is_kept_in_nfc_with_its_lines() -> None:
    log = log_service(activity="Cafe\u0301 visit", note=" bathed,\r\nthen fed \u200b")

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Logged)
    assert (e.activity, e.note) == ("Caf\u00e9 visit", "bathed,\nthen fed")


def test_service_given_today_can_be_logged_today() -> None:
    log = log_service(service_date=TODAY)

    assert log.service_date == TODAY


@pytest.mark.parametrize("activity", ["", "   "])
def test_an_activity_is_required(activity: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        log_service(activity=activity)

    assert refused.value.field == "activity"


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_blank_beneficiary_or_note_is_recorded_as_none(blank: str | None) -> None:
    log = log_service(beneficiary=blank, note=blank)

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Logged)
    assert e.beneficiary is None
    assert e.note is None


# Approving


def test_approving_credits_every_minute_logged_by_default() -> None:
    log = pending(90)

    log.approve(actor_id=COORDINATOR_ID)

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Approved)
    assert e.minutes == 90
    assert e.actor_id == COORDINATOR_ID
    assert log.status is ServiceStatus.APPROVED
    assert log.credited_minutes == 90


def test_approving_part_of_the_minutes_credits_only_that_part() -> None:
    log = pending(90)

    log.approve(actor_id=COORDINATOR_ID, minutes=60)

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Approved)
    assert e.minutes == 60
    assert log.minutes == 90
    assert log.approved_minutes == 60
    assert log.credited_minutes == 60


@given(st.integers(min_value=1, max_value=90))
def test_any_part_of_the_logged_minutes_can_be_approved(minutes: int) -> None:
    log = pending(90)

    log.approve(actor_id=COORDINATOR_ID, minutes=minutes)

    assert log.credited_minutes == minutes


@given(st.integers(max_value=0) | st.integers(min_value=91))
def test_approving_nothing_or_more_than_was_logged_is_refused(minutes: int) -> None:
    log = pending(90)

    with pytest.raises(InvalidRequestError) as refused:
        log.approve(actor_id=COORDINATOR_ID, minutes=minutes)

    assert refused.value.field == "minutes"
    assert log.collect_events() == []
    assert log.status is ServiceStatus.PENDING
    assert log.credited_minutes == 0


def test_a_volunteer_cannot_approve_their_own_service() -> None:
    log = pending()

    with pytest.raises(PermissionDeniedError) as refused:
        log.approve(actor_id=VOLUNTEER_ID)

    assert refused.value.actor_id == VOLUNTEER_ID
    assert log.collect_events() == []
    assert log.status is ServiceStatus.PENDING


def test_a_volunteer_cannot_approve_service_a_coordinator_logged_for_them() -> None:
    log = log_service(actor_id=COORDINATOR_ID)
    log.collect_events()

    with pytest.raises(PermissionDeniedError):
        log.approve(actor_id=VOLUNTEER_ID)

    assert log.collect_events() == []
    assert log.status is ServiceStatus.PENDING


# Rejecting


def test_rejecting_records_the_reason_and_credits_nothing() -> None:
    log = pending()

    log.reject(actor_id=COORDINATOR_ID, reason="  Travel time is not service time ")

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Rejected)
    assert e.reason == "Travel time is not service time"
    assert e.actor_id == COORDINATOR_ID
    assert log.status is ServiceStatus.REJECTED
    assert log.reason == "Travel time is not service time"
    assert log.credited_minutes == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_needs_a_reason(reason: str) -> None:
    log = pending()

    with pytest.raises(InvalidRequestError) as refused:
        log.reject(actor_id=COORDINATOR_ID, reason=reason)

    assert refused.value.field == "reason"
    assert log.collect_events() == []
    assert log.status is ServiceStatus.PENDING


def test_a_reason_longer_than_500_characters_is_refused() -> None:
    log = pending()

    with pytest.raises(InvalidRequestError):
        log.reject(actor_id=COORDINATOR_ID, reason="x" * 501)

    assert log.collect_events() == []
    assert log.status is ServiceStatus.PENDING


def test_a_volunteer_cannot_reject_their_own_service() -> None:
    log = pending()

    with pytest.raises(PermissionDeniedError):
        log.reject(actor_id=VOLUNTEER_ID, reason="Changed my mind")

    assert log.collect_events() == []
    assert log.status is ServiceStatus.PENDING


# Resolved exactly once


@pytest.mark.parametrize(
    ("given_log", "state"),
    [(approved, "approved"), (rejected, "rejected"), (reversed_log, "reversed")],
)
def test_a_resolved_log_cannot_be_approved(given_log: Callable[[], ServiceLog], state: str) -> None:
    log = given_log()
    status, credited = log.status, log.credited_minutes

    with pytest.raises(InvalidStateError) as refused:
        log.approve(actor_id=COORDINATOR_ID)

    assert refused.value.state == state
    assert log.collect_events() == []
    assert (log.status, log.credited_minutes) == (status, credited)


@pytest.mark.parametrize(
    ("given_log", "state"),
    [(approved, "approved"), (rejected, "rejected"), (reversed_log, "reversed")],
)
def test_a_resolved_log_cannot_be_rejected(given_log: Callable[[], ServiceLog], state: str) -> None:
    log = given_log()
    status, credited = log.status, log.credited_minutes

    with pytest.raises(InvalidStateError) as refused:
        log.reject(actor_id=COORDINATOR_ID, reason="Not a real service")

    assert refused.value.state == state
    assert log.collect_events() == []
    assert (log.status, log.credited_minutes) == (status, credited)


# Reversing


def test_reversing_an_approval_records_the_reason_and_credits_nothing_any_more() -> None:
    log = approved(60)
    auditor_id = uuid4()

    log.reverse(actor_id=auditor_id, reason=" Logged twice ")

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Reversed)
    assert e.reason == "Logged twice"
    assert e.actor_id == auditor_id
    assert log.status is ServiceStatus.REVERSED
    assert log.reason == "Logged twice"
    assert log.credited_minutes == 0


@pytest.mark.parametrize(
    ("given_log", "state"),
    [(pending, "pending"), (rejected, "rejected"), (reversed_log, "reversed")],
)
def test_only_an_approved_log_can_be_reversed(
    given_log: Callable[[], ServiceLog], state: str
) -> None:
    log = given_log()
    status = log.status

    with pytest.raises(InvalidStateError) as refused:
        log.reverse(actor_id=COORDINATOR_ID, reason="Logged twice")

    assert refused.value.state == state
    assert log.collect_events() == []
    assert log.status is status
    assert log.credited_minutes == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reversal_needs_a_reason(reason: str) -> None:
    log = approved(60)

    with pytest.raises(InvalidRequestError) as refused:
        log.reverse(actor_id=COORDINATOR_ID, reason=reason)

    assert refused.value.field == "reason"
    assert log.collect_events() == []
    assert log.status is ServiceStatus.APPROVED
    assert log.credited_minutes == 60


def test_a_volunteer_cannot_reverse_their_own_service() -> None:
    log = approved(60)

    with pytest.raises(PermissionDeniedError):
        log.reverse(actor_id=VOLUNTEER_ID, reason="Logged twice")

    assert log.collect_events() == []
    assert log.status is ServiceStatus.APPROVED
    assert log.credited_minutes == 60


# What each status contributes, and replay


@pytest.mark.parametrize(
    ("given_log", "status", "credited"),
    [
        (pending, ServiceStatus.PENDING, 0),
        (approved, ServiceStatus.APPROVED, 60),
        (rejected, ServiceStatus.REJECTED, 0),
        (reversed_log, ServiceStatus.REVERSED, 0),
    ],
)
def test_only_an_approved_log_credits_minutes(
    given_log: Callable[[], ServiceLog], status: ServiceStatus, credited: int
) -> None:
    log = given_log()

    assert log.status is status
    assert log.credited_minutes == credited


def test_replaying_the_events_reproduces_the_log() -> None:
    log = log_service(minutes=90, note="with a neighbour")
    log.approve(actor_id=COORDINATOR_ID, minutes=75)
    log.reverse(actor_id=COORDINATOR_ID, reason="Wrong volunteer")

    copy = replay(log.collect_events())

    assert copy.id == log.id
    assert copy.version == log.version == 3
    assert copy.volunteer_id == VOLUNTEER_ID
    assert copy.team_id == TEAM_ID
    assert copy.service_date == YESTERDAY
    assert copy.minutes == 90
    assert copy.note == "with a neighbour"
    assert copy.approved_minutes == 75
    assert copy.status is ServiceStatus.REVERSED
    assert copy.reason == "Wrong volunteer"
    assert copy.credited_minutes == 0


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> ServiceLog:
    """Rebuild a log from its recorded events alone, as a repository would."""
    copy: ServiceLog | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy


def test_a_copy_approved_by_a_command_leaves_the_original_pending() -> None:
    """Commands change a copy of the cached log (`ValueAttributes.__deepcopy__` shares its
    immutable attributes); an unsaved approval must leave the cache's log as it was."""
    original = pending(90)
    changed = deepcopy(original)
    changed.approve(actor_id=COORDINATOR_ID, minutes=60)
    assert (changed.status, changed.approved_minutes) == (ServiceStatus.APPROVED, 60)
    assert (original.status, original.approved_minutes) == (ServiceStatus.PENDING, None)
    assert (original.version, original.collect_events()) == (changed.version - 1, [])
    # Every other attribute is immutable and shared; a new mutable one needs copying too.
    mutable = {
        name for name, value in vars(changed).items() if isinstance(value, list | dict | set)
    }
    assert mutable == {"_pending_events"}


def test_a_partial_approval_carries_its_reason() -> None:
    log = pending()

    log.approve(actor_id=COORDINATOR_ID, minutes=60, reason="  travel is not service time ")

    [e] = log.collect_events()
    assert isinstance(e, ServiceLog.Approved)
    assert (e.minutes, e.reason) == (60, "travel is not service time")
    assert log.reason == "travel is not service time"


def test_an_approval_by_whoever_logged_it_for_the_volunteer_is_marked() -> None:
    """谁记录谁证明: allowed, but marked, so that auditors can list such credits."""
    on_behalf = log_service(actor_id=COORDINATOR_ID)
    own = log_service()
    on_behalf.collect_events()
    own.collect_events()

    on_behalf.approve(actor_id=COORDINATOR_ID)
    own.approve(actor_id=COORDINATOR_ID)

    [marked] = on_behalf.collect_events()
    [plain] = own.collect_events()
    assert isinstance(marked, ServiceLog.Approved)
    assert isinstance(plain, ServiceLog.Approved)
    assert marked.certified_by_recorder is True
    assert plain.certified_by_recorder is False
