"""Activities (场次) and care pairings (结对): given events -> one command -> events."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from timebank.activities import Activity, Attendance
from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.pairings import Pairing

TODAY = date(2026, 11, 21)
COORDINATOR = uuid4()
TEAM = uuid4()


def attending(*minutes: int) -> list[Attendance]:
    return [Attendance(uuid4(), m, uuid4()) for m in minutes]


def clinic(attendees: list[Attendance], *, day: date = TODAY) -> Activity:
    return Activity.record(
        activity_id=uuid4(),
        actor_id=COORDINATOR,
        team_id=TEAM,
        service_date=day,
        activity="健康义诊",
        place="Linkou community centre",
        beneficiaries="residents over 60",
        attendees=attendees,
        today=TODAY,
    )


def test_an_activity_is_recorded_with_each_attendee_and_their_log() -> None:
    people = attending(120, 120, 90)

    activity = clinic(people)

    [recorded] = activity.collect_events()
    assert isinstance(recorded, Activity.Recorded)
    assert activity.attendees == {a.member_id: a for a in people}
    assert activity.recorded_by == COORDINATOR


@pytest.mark.parametrize(
    ("attendees", "field"),
    [
        ([], "attendees"),
        (attending(0), "minutes"),
        (attending(1441), "minutes"),
        (attending(*([30] * 501)), "attendees"),
    ],
    ids=["nobody", "no minutes", "more than a day", "over 500 people"],
)
def test_an_activity_refuses_attendance_that_cannot_be(
    attendees: list[Attendance], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        clinic(attendees)
    assert refused.value.field == field


def test_nobody_is_listed_twice() -> None:
    [li] = attending(60)

    with pytest.raises(InvalidRequestError, match="listed twice"):
        clinic([li, Attendance(li.member_id, 30, uuid4())])


def test_an_activity_happened_on_a_past_or_present_day() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        clinic(attending(60), day=TODAY + timedelta(days=1))
    assert refused.value.field == "service_date"


def test_attendees_added_and_removed_later_are_new_events() -> None:
    activity = clinic(attending(120))
    activity.collect_events()
    late, log = uuid4(), uuid4()

    activity.add_attendee(actor_id=COORDINATOR, member_id=late, minutes=60, service_log_id=log)
    taken = activity.remove_attendee(actor_id=COORDINATOR, member_id=late, reason="left early")

    added, removed = activity.collect_events()
    assert isinstance(added, Activity.AttendeeAdded)
    assert isinstance(removed, Activity.AttendeeRemoved)
    assert removed.reason == "left early"
    assert taken == Attendance(late, 60, log)
    assert late not in activity.attendees


def test_the_same_person_is_not_added_twice_nor_a_stranger_removed() -> None:
    [li] = people = attending(120)
    activity = clinic(people)

    with pytest.raises(InvalidStateError):
        activity.add_attendee(
            actor_id=COORDINATOR, member_id=li.member_id, minutes=30, service_log_id=uuid4()
        )
    with pytest.raises(InvalidStateError):
        activity.remove_attendee(actor_id=COORDINATOR, member_id=uuid4(), reason="not here")
    with pytest.raises(InvalidRequestError):
        activity.remove_attendee(actor_id=COORDINATOR, member_id=li.member_id, reason="  ")


# Care pairings ------------------------------------------------------------------------------


def pairing(volunteer: UUID | None = None, *, since: date = TODAY) -> Pairing:
    return Pairing.form(
        actor_id=COORDINATOR,
        team_id=TEAM,
        beneficiary_id=uuid4(),
        volunteer_id=volunteer,
        since=since,
        note=None,
        today=TODAY,
    )


def test_a_pairing_holds_from_its_first_day_until_it_ends() -> None:
    paired = pairing(uuid4(), since=TODAY - timedelta(days=30))

    paired.end(actor_id=COORDINATOR, effective_date=TODAY, reason="moved away", today=TODAY)

    assert paired.is_active_on(TODAY - timedelta(days=30))
    assert paired.is_active_on(TODAY - timedelta(days=1))
    assert not paired.is_active_on(TODAY)
    assert not paired.is_active_on(TODAY - timedelta(days=31))


def test_a_pairing_starts_no_later_than_today_and_never_pairs_an_elder_with_herself() -> None:
    with pytest.raises(InvalidRequestError):
        pairing(since=TODAY + timedelta(days=1))
    with pytest.raises(InvalidRequestError):
        Pairing.form(
            actor_id=COORDINATOR,
            team_id=TEAM,
            beneficiary_id=(elder := uuid4()),
            volunteer_id=elder,
            since=TODAY,
            note=None,
            today=TODAY,
        )


def test_a_pairing_ends_once_within_its_own_time() -> None:
    paired = pairing(since=TODAY - timedelta(days=3))

    with pytest.raises(InvalidRequestError):
        paired.end(
            actor_id=COORDINATOR,
            effective_date=TODAY - timedelta(days=4),
            reason="x",
            today=TODAY,
        )
    with pytest.raises(InvalidRequestError):
        paired.end(
            actor_id=COORDINATOR,
            effective_date=TODAY + timedelta(days=1),
            reason="x",
            today=TODAY,
        )
    paired.end(actor_id=COORDINATOR, effective_date=TODAY, reason="moved away", today=TODAY)
    with pytest.raises(InvalidStateError):
        paired.end(actor_id=COORDINATOR, effective_date=TODAY, reason="again", today=TODAY)
