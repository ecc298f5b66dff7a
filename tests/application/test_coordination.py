"""A coordinator's work on the three stores: activities (场次) certified by whoever records
them, many logs reviewed at once, and care pairings (结对) with their visits."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from tests.support import SINCE, TODAY, Community, event_count
from timebank.coordination import ActivityView, Attendee
from timebank.errors import (
    InsufficientMinutesError,
    InvalidRequestError,
    PermissionDeniedError,
)
from timebank.reviews import Decision


def clinic(community: Community, *attendees: Attendee, by: UUID | None = None) -> ActivityView:
    return community.app.record_activity(
        actor_id=community.care_coordinator if by is None else by,
        team_id=community.care_team,
        service_date=TODAY,
        activity="健康义诊",
        place="community centre",
        attendees=attendees,
    )


# Activities --------------------------------------------------------------------------------


def test_whoever_records_an_activity_certifies_it_but_not_their_own_attendance(
    community: Community,
) -> None:
    app, chen = community.app, community.care_coordinator

    recorded = app.record_activity(
        actor_id=chen,
        team_id=community.care_team,
        service_date=TODAY,
        activity="健康义诊",
        attendees=[Attendee(community.li, 120), Attendee(community.wang, 90), Attendee(chen, 120)],
    )

    logs = {a.member_id: app.get_service_log(a.service_log_id) for a in recorded.attendees}
    assert logs[community.li].status == "approved"
    assert logs[community.wang].status == "approved"
    assert logs[chen].status == "pending"
    assert app.get_account(community.li).balance_minutes == 120
    assert app.get_account(community.wang).balance_minutes == 90
    assert app.get_account(chen).balance_minutes == 0
    with pytest.raises(PermissionDeniedError):
        app.approve_service(actor_id=chen, service_log_id=logs[chen].id)
    app.approve_service(actor_id=community.admin, service_log_id=logs[chen].id)
    assert app.get_account(chen).balance_minutes == 120


def test_an_activity_with_someone_outside_the_team_saves_nothing(community: Community) -> None:
    before = event_count(community.app)

    with pytest.raises(PermissionDeniedError, match="not in the team"):
        clinic(community, Attendee(community.li, 60), Attendee(community.zhao, 60))

    assert event_count(community.app) == before
    assert community.app.get_account(community.li).balance_minutes == 0


def test_only_the_teams_coordinators_and_admins_record_its_activities(
    community: Community,
) -> None:
    for stranger in (community.li, community.patrol_coordinator, community.auditor):
        with pytest.raises(PermissionDeniedError):
            clinic(community, Attendee(community.wang, 60), by=stranger)
    clinic(community, Attendee(community.wang, 60), by=community.admin)
    assert community.app.get_account(community.wang).balance_minutes == 60


def test_a_removed_attendees_minutes_are_reversed_with_the_reason(community: Community) -> None:
    app, chen = community.app, community.care_coordinator
    recorded = app.record_activity(
        actor_id=chen,
        team_id=community.care_team,
        service_date=TODAY,
        activity="park outing",
        attendees=[Attendee(community.li, 60), Attendee(chen, 60)],
    )

    after = app.remove_attendee(
        actor_id=chen, activity_id=recorded.id, member_id=community.li, reason="stayed home"
    )
    app.remove_attendee(
        actor_id=community.admin, activity_id=recorded.id, member_id=chen, reason="was ill"
    )

    logs = {a.member_id: app.get_service_log(a.service_log_id) for a in recorded.attendees}
    assert (logs[community.li].status, logs[community.li].reason) == ("reversed", "stayed home")
    assert (logs[chen].status, logs[chen].reason) == ("rejected", "was ill")
    assert app.get_account(community.li).balance_minutes == 0
    assert [a.member_id for a in after.attendees] == [chen]


def test_an_attendee_whose_minutes_are_spent_is_not_removed(community: Community) -> None:
    app, chen = community.app, community.care_coordinator
    recorded = clinic(community, Attendee(community.li, 60))
    app.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=50)
    before = event_count(app)

    with pytest.raises(InsufficientMinutesError):
        app.remove_attendee(
            actor_id=chen,
            activity_id=recorded.id,
            member_id=community.li,
            reason="was not there",
        )

    assert event_count(app) == before


def test_someone_added_later_gets_a_log_of_their_own(community: Community) -> None:
    app = community.app
    recorded = clinic(community, Attendee(community.li, 60))

    after = app.add_attendee(
        actor_id=community.care_coordinator,
        activity_id=recorded.id,
        member_id=community.wang,
        minutes=45,
    )

    assert {a.member_id: a.minutes for a in after.attendees} == {
        community.li: 60,
        community.wang: 45,
    }
    assert app.get_account(community.wang).balance_minutes == 45


# Reviewing many logs at once ----------------------------------------------------------------


def test_a_review_decides_each_log_on_its_own_and_names_the_refused(
    community: Community,
) -> None:
    app, chen = community.app, community.care_coordinator

    def logged(volunteer: UUID, minutes: int, team: UUID = community.care_team) -> UUID:
        return app.log_service(
            actor_id=volunteer,
            team_id=team,
            service_date=TODAY,
            minutes=minutes,
            activity="home care",
        ).id

    partial, whole, rejected = (
        logged(community.li, 120),
        logged(community.wang, 60),
        logged(community.li, 30),
    )
    decided = community.earn(community.wang, 10)
    foreign = logged(community.zhao, 90, community.patrol_team)
    unknown = uuid4()
    decisions = [
        Decision(partial, "approve", 90, "left an hour early"),
        Decision(whole, "approve"),
        Decision(rejected, "reject", reason="logged twice"),
        Decision(decided, "approve"),
        Decision(foreign, "approve"),
        Decision(unknown, "approve"),
    ]

    outcomes = app.review_service_logs(actor_id=chen, decisions=decisions, request_id="r1")

    assert [(o.outcome, o.code) for o in outcomes] == [
        ("approved", None),
        ("approved", None),
        ("rejected", None),
        ("refused", "invalid_state"),
        ("refused", "forbidden"),
        ("refused", "not_found"),
    ]
    assert app.get_account(community.li).balance_minutes == 90
    assert app.get_account(community.wang).balance_minutes == 70
    assert app.get_account(community.zhao).balance_minutes == 0
    assert app.get_service_log(partial).reason == "left an hour early"
    assert app.get_service_log(rejected).reason == "logged twice"

    before = event_count(app)
    again = app.review_service_logs(actor_id=chen, decisions=decisions, request_id="r1")
    assert again == outcomes
    assert event_count(app) == before


def test_a_review_names_each_log_once_and_gives_reasons_for_rejections(
    community: Community,
) -> None:
    app, chen = community.app, community.care_coordinator
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    ).id

    with pytest.raises(InvalidRequestError, match="twice"):
        app.review_service_logs(
            actor_id=chen, decisions=[Decision(log, "approve"), Decision(log, "reject", None, "x")]
        )
    with pytest.raises(InvalidRequestError):
        app.review_service_logs(actor_id=chen, decisions=[])
    [outcome] = app.review_service_logs(actor_id=chen, decisions=[Decision(log, "reject")])
    assert (outcome.outcome, outcome.code) == ("refused", "invalid_request")
    assert app.get_service_log(log).status == "pending"


def test_a_volunteer_reviewing_decides_nothing(community: Community) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.wang,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    ).id

    [outcome] = app.review_service_logs(actor_id=community.li, decisions=[Decision(log, "approve")])

    assert (outcome.outcome, outcome.code) == ("refused", "forbidden")
    assert app.get_account(community.wang).balance_minutes == 0


# Care pairings ------------------------------------------------------------------------------


def test_a_pairings_visits_are_logs_that_name_it(community: Community) -> None:
    app, chen = community.app, community.care_coordinator
    paired = app.form_pairing(
        actor_id=chen,
        team_id=community.care_team,
        beneficiary_id=community.grandma,
        volunteer_id=community.li,
        since=SINCE,
    )

    visit = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="探访",
        pairing_id=paired.id,
    )

    assert app.get_service_log(visit.id).status == "pending"
    with pytest.raises(InvalidRequestError, match="another volunteer"):
        app.log_service(
            actor_id=community.wang,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=60,
            activity="探访",
            pairing_id=paired.id,
        )
    with pytest.raises(InvalidRequestError, match="names no pairing"):
        app.log_service(
            actor_id=community.li,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=60,
            activity="探访",
            pairing_id=uuid4(),
        )


def test_a_visit_falls_within_the_pairings_days(community: Community) -> None:
    app, chen = community.app, community.care_coordinator
    paired = app.form_pairing(
        actor_id=chen,
        team_id=community.care_team,
        beneficiary_id=community.grandma,
        since=TODAY - timedelta(days=10),
    )
    app.end_pairing(
        actor_id=chen,
        pairing_id=paired.id,
        reason="moved in with her son",
        effective_date=TODAY - timedelta(days=2),
    )

    for day in (TODAY - timedelta(days=11), TODAY - timedelta(days=1)):
        with pytest.raises(InvalidRequestError, match="not a pairing of this team"):
            app.log_service(
                actor_id=community.wang,
                team_id=community.care_team,
                service_date=day,
                minutes=60,
                activity="探访",
                pairing_id=paired.id,
            )
    app.log_service(
        actor_id=community.wang,  # a team's pairing: anyone of the team visits
        team_id=community.care_team,
        service_date=TODAY - timedelta(days=5),
        minutes=60,
        activity="探访",
        pairing_id=paired.id,
    )


def test_only_the_teams_coordinators_pair_its_volunteers(community: Community) -> None:
    app = community.app
    for stranger in (community.li, community.patrol_coordinator):
        with pytest.raises(PermissionDeniedError):
            app.form_pairing(
                actor_id=stranger, team_id=community.care_team, beneficiary_id=community.grandma
            )
    with pytest.raises(PermissionDeniedError, match="not in the team"):
        app.form_pairing(
            actor_id=community.care_coordinator,
            team_id=community.care_team,
            beneficiary_id=community.grandma,
            volunteer_id=community.zhao,
        )
