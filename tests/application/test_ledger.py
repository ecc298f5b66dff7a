"""Use cases of the ledger on every store: in memory, a SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate

from projections.log import read_events
from tests.support import (
    SINCE,
    TODAY,
    Community,
    build_community,
    event_count,
    open_ledger,
    replayed,
)
from timebank import SYSTEM_ACTOR_ID, Account, ServiceLog, TeamRole
from timebank.errors import (
    BalanceCapExceededError,
    IdempotencyKeyReusedError,
    InsufficientMinutesError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from timebank.policies import Rules
from timebank.policy import Policy

# Service ---------------------------------------------------------------------------------


def test_approved_service_is_credited_from_the_issuance_account(community: Community) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY - timedelta(days=3),
        minutes=120,
        activity="home care for an elder",
        beneficiary="Grandma Liu",
    )
    assert log.status == "pending"
    assert log.logged_by == community.li
    assert app.get_account(community.li).balance_minutes == 0
    assert replayed(app).members[community.li].balance == 0

    approved = app.approve_service(
        actor_id=community.care_coordinator, service_log_id=log.id, minutes=90
    )

    assert (approved.status, approved.approved_minutes) == ("approved", 90)
    account = app.get_account(community.li)
    assert (account.earned_minutes, account.balance_minutes, account.available_minutes) == (
        90,
        90,
        90,
    )
    balances = replayed(app)
    assert balances.members[community.li].earned == 90
    assert balances.system["issuance"] == -90
    assert balances.total() == 0


def test_every_event_names_its_actor_and_recorded_time(community: Community) -> None:
    app = community.app
    log_id = community.earn(community.li, 60)
    events = list(read_events(app))
    assert events, "the ledger recorded nothing"
    members = (community.admin, community.li, community.wang, community.zhao)
    coordinators = (community.care_coordinator, community.patrol_coordinator)
    actors = {*members, *coordinators, SYSTEM_ACTOR_ID}  # each accepted their membership
    for event in events:
        assert isinstance(event, Aggregate.Event)
        assert getattr(event, "actor_id", None) in actors
        assert event.timestamp.tzinfo is not None
    [approved] = [e for e in events if isinstance(e, ServiceLog.Approved)]
    assert approved.originator_id == log_id
    assert approved.actor_id == community.care_coordinator
    [earned] = [e for e in events if isinstance(e, Account.Earned)]
    assert (earned.debit, earned.credit) == ("issuance", f"member:{community.li}")


def test_a_volunteer_logs_only_in_teams_they_belong_to(community: Community) -> None:
    app = community.app
    before = event_count(app)
    with pytest.raises(PermissionDeniedError):
        app.log_service(
            actor_id=community.zhao,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=60,
            activity="home care",
        )
    assert event_count(app) == before


def test_membership_dates_decide_which_service_may_be_logged(community: Community) -> None:
    app = community.app
    left_on = TODAY - timedelta(days=10)
    app.remove_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.li,
        effective_date=left_on,
    )
    late = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=left_on - timedelta(days=1),
        minutes=30,
        activity="late log from before leaving",
    )
    assert late.status == "pending"
    with pytest.raises(PermissionDeniedError):
        app.log_service(
            actor_id=community.li,
            team_id=community.care_team,
            service_date=left_on,
            minutes=30,
            activity="after leaving",
        )
    with pytest.raises(PermissionDeniedError):
        app.log_service(
            actor_id=community.li,
            team_id=community.care_team,
            service_date=SINCE - timedelta(days=1),
            minutes=30,
            activity="before joining",
        )
    team = app.get_team(community.care_team)
    assert community.li not in {m.member_id for m in team.members}


def test_a_coordinator_logs_on_behalf_of_a_member_of_their_team(community: Community) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.care_coordinator,
        volunteer_id=community.wang,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=45,
        activity="haircut",
    )
    assert (log.volunteer_id, log.logged_by) == (community.wang, community.care_coordinator)

    with pytest.raises(PermissionDeniedError):  # a volunteer may not log for another
        app.log_service(
            actor_id=community.li,
            volunteer_id=community.wang,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=45,
            activity="haircut",
        )
    with pytest.raises(PermissionDeniedError):  # nor a coordinator for another team
        app.log_service(
            actor_id=community.patrol_coordinator,
            volunteer_id=community.wang,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=45,
            activity="haircut",
        )
    with pytest.raises(PermissionDeniedError):  # nor for someone outside the team
        app.log_service(
            actor_id=community.care_coordinator,
            volunteer_id=community.zhao,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=45,
            activity="haircut",
        )


def test_service_cannot_be_logged_for_tomorrow(community: Community) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        community.app.log_service(
            actor_id=community.li,
            team_id=community.care_team,
            service_date=TODAY + timedelta(days=1),
            minutes=60,
            activity="home care",
        )
    assert refused.value.field == "service_date"


@pytest.mark.parametrize("reviewer", ["li", "wang", "patrol_coordinator", "auditor"])
def test_only_the_teams_coordinators_and_admins_review(community: Community, reviewer: str) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    )
    before = event_count(app)
    actor = getattr(community, reviewer)
    with pytest.raises(PermissionDeniedError):
        app.approve_service(actor_id=actor, service_log_id=log.id)
    with pytest.raises(PermissionDeniedError):
        app.reject_service(actor_id=actor, service_log_id=log.id, reason="no")
    assert event_count(app) == before
    assert app.get_service_log(log.id).status == "pending"
    assert app.approve_service(actor_id=community.admin, service_log_id=log.id).status == (
        "approved"
    )


def test_nobody_approves_their_own_service(community: Community) -> None:
    app = community.app
    own = app.log_service(
        actor_id=community.care_coordinator,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    )
    with pytest.raises(PermissionDeniedError):
        app.approve_service(actor_id=community.care_coordinator, service_log_id=own.id)
    app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.admin,
        role=TeamRole.VOLUNTEER,
        effective_date=SINCE,
    )
    admins_own = app.log_service(
        actor_id=community.admin,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    )
    with pytest.raises(PermissionDeniedError):
        app.approve_service(actor_id=community.admin, service_log_id=admins_own.id)
    assert app.get_service_log(admins_own.id).status == "pending"


def test_a_log_is_resolved_exactly_once(community: Community) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    )
    app.reject_service(
        actor_id=community.care_coordinator, service_log_id=log.id, reason="not our team's"
    )
    before = event_count(app)
    with pytest.raises(InvalidStateError):
        app.approve_service(actor_id=community.care_coordinator, service_log_id=log.id)
    with pytest.raises(InvalidStateError):
        app.reject_service(actor_id=community.care_coordinator, service_log_id=log.id, reason="x")
    with pytest.raises(InvalidStateError):
        app.reverse_service(actor_id=community.care_coordinator, service_log_id=log.id, reason="x")
    assert event_count(app) == before
    assert app.get_account(community.li).balance_minutes == 0
    assert app.get_service_log(log.id).reason == "not our team's"


def test_a_reversal_takes_the_minutes_back_and_never_overdraws(community: Community) -> None:
    app = community.app
    first = community.earn(community.li, 60)
    second = community.earn(community.li, 60)
    app.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=100)

    before = event_count(app)
    with pytest.raises(InsufficientMinutesError) as refused:
        app.reverse_service(
            actor_id=community.care_coordinator, service_log_id=first, reason="duplicate"
        )
    assert (refused.value.requested, refused.value.available) == (60, 20)
    assert event_count(app) == before
    assert app.get_service_log(first).status == "approved"

    app.transfer(actor_id=community.grandma, to_member_id=community.li, minutes=40)
    reversed_log = app.reverse_service(
        actor_id=community.care_coordinator, service_log_id=second, reason="duplicate"
    )
    assert reversed_log.status == "reversed"
    assert reversed_log.reason == "duplicate"
    assert app.get_account(community.li).balance_minutes == 0
    assert replayed(app).total() == 0


# Redemptions and transfers ---------------------------------------------------------------


def test_a_redemption_holds_then_spends_the_minutes(community: Community) -> None:
    app = community.app
    community.earn(community.li, 180)
    redemption = app.request_redemption(
        actor_id=community.li, team_id=community.care_team, service="two hours of care", minutes=120
    )
    assert redemption.status == "held"
    account = app.get_account(community.li)
    assert (account.balance_minutes, account.held_minutes, account.available_minutes) == (
        180,
        120,
        60,
    )
    with pytest.raises(PermissionDeniedError):  # another team's coordinator
        app.fulfil_redemption(actor_id=community.patrol_coordinator, redemption_id=redemption.id)
    with pytest.raises(PermissionDeniedError):  # the member cannot confirm their own care
        app.fulfil_redemption(actor_id=community.li, redemption_id=redemption.id)

    fulfilled = app.fulfil_redemption(
        actor_id=community.care_coordinator, redemption_id=redemption.id
    )

    assert fulfilled.status == "fulfilled"
    account = app.get_account(community.li)
    assert (account.redeemed_minutes, account.held_minutes, account.balance_minutes) == (
        120,
        0,
        60,
    )
    with pytest.raises(InvalidStateError):
        app.cancel_redemption(actor_id=community.li, redemption_id=redemption.id)
    balances = replayed(app)
    assert balances.system == {"issuance": -180, "redeemed": 120, "expired": 0}
    assert balances.total() == 0


@pytest.mark.parametrize("canceller", ["li", "care_coordinator", "admin"])
def test_a_cancelled_redemption_releases_its_minutes(community: Community, canceller: str) -> None:
    app = community.app
    community.earn(community.li, 60)
    redemption = app.request_redemption(
        actor_id=community.li, team_id=community.care_team, service="haircut", minutes=60
    )
    assert app.get_account(community.li).available_minutes == 0
    cancelled = app.cancel_redemption(
        actor_id=getattr(community, canceller), redemption_id=redemption.id, reason="moved away"
    )
    assert cancelled.status == "cancelled"
    assert app.get_account(community.li).available_minutes == 60


def test_strangers_cannot_cancel_or_spend_someone_elses_minutes(community: Community) -> None:
    app = community.app
    community.earn(community.li, 60)
    redemption = app.request_redemption(
        actor_id=community.li, team_id=community.care_team, service="haircut", minutes=30
    )
    for stranger in (community.wang, community.patrol_coordinator, community.auditor):
        with pytest.raises(PermissionDeniedError):
            app.cancel_redemption(actor_id=stranger, redemption_id=redemption.id)
    with pytest.raises(PermissionDeniedError):
        app.request_redemption(
            actor_id=community.wang,
            member_id=community.li,
            team_id=community.care_team,
            service="haircut",
            minutes=30,
        )
    with pytest.raises(PermissionDeniedError):  # no consent: the member was never asked
        app.request_redemption(
            actor_id=community.care_coordinator,
            member_id=community.li,
            team_id=community.care_team,
            service="haircut at the desk",
            minutes=30,
        )
    card = app.issue_card(actor_id=community.admin, member_id=community.li)
    helped = app.request_redemption(
        actor_id=community.care_coordinator,
        member_id=community.li,
        team_id=community.care_team,
        service="haircut at the desk",
        minutes=30,
        card_code=card.code,
    )
    assert (helped.member_id, helped.requested_by) == (community.li, community.care_coordinator)
    assert (helped.consent, helped.consented_by) == ("card", community.li)
    assert app.get_account(community.li).available_minutes == 0


def test_redeeming_more_than_available_is_refused(community: Community) -> None:
    app = community.app
    community.earn(community.li, 60)
    before = event_count(app)
    with pytest.raises(InsufficientMinutesError):
        app.request_redemption(
            actor_id=community.li, team_id=community.care_team, service="care", minutes=61
        )
    assert event_count(app) == before


def test_a_gift_moves_minutes_between_members_at_once(community: Community) -> None:
    app = community.app
    community.earn(community.li, 100)
    transfer = app.transfer(
        actor_id=community.li, to_member_id=community.grandma, minutes=70, note="for mum"
    )
    assert app.get_transfer(transfer.id) == transfer
    giver, receiver = app.get_account(community.li), app.get_account(community.grandma)
    assert (giver.given_minutes, giver.balance_minutes) == (70, 30)
    assert (receiver.received_minutes, receiver.balance_minutes) == (70, 70)
    with pytest.raises(InsufficientMinutesError):
        app.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=31)
    with pytest.raises(InvalidRequestError):
        app.transfer(actor_id=community.li, to_member_id=community.li, minutes=1)
    with pytest.raises(NotFoundError):
        app.transfer(actor_id=community.li, to_member_id=uuid4(), minutes=1)


# Idempotency -----------------------------------------------------------------------------


def test_a_repeated_request_returns_the_first_result_and_records_nothing(
    community: Community,
) -> None:
    app = community.app
    community.earn(community.li, 100)
    first = app.transfer(
        actor_id=community.li, to_member_id=community.grandma, minutes=30, request_id="gift-1"
    )
    before = event_count(app)
    again = app.transfer(
        actor_id=community.li, to_member_id=community.grandma, minutes=30, request_id="gift-1"
    )
    assert again == first
    assert event_count(app) == before
    assert app.get_account(community.li).balance_minutes == 70


def test_a_repeat_returns_the_original_result_even_after_later_changes(
    community: Community,
) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=60,
        activity="home care",
    )
    approved = app.approve_service(
        actor_id=community.care_coordinator, service_log_id=log.id, request_id="approve-1"
    )
    app.reverse_service(actor_id=community.care_coordinator, service_log_id=log.id, reason="oops")
    again = app.approve_service(
        actor_id=community.care_coordinator, service_log_id=log.id, request_id="approve-1"
    )
    assert again == approved
    assert again.status == "approved"
    assert app.get_service_log(log.id).status == "reversed"
    assert app.get_account(community.li).balance_minutes == 0


def test_a_request_id_reused_for_another_command_is_refused(community: Community) -> None:
    app = community.app
    community.earn(community.li, 100)
    app.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=30, request_id="k")
    before = event_count(app)
    with pytest.raises(IdempotencyKeyReusedError):
        app.transfer(
            actor_id=community.li, to_member_id=community.grandma, minutes=31, request_id="k"
        )
    with pytest.raises(IdempotencyKeyReusedError):
        app.request_redemption(
            actor_id=community.li,
            team_id=community.care_team,
            service="care",
            minutes=30,
            request_id="k",
        )
    with pytest.raises(IdempotencyKeyReusedError):  # the same command by someone else
        app.transfer(
            actor_id=community.wang, to_member_id=community.grandma, minutes=30, request_id="k"
        )
    assert event_count(app) == before


def test_a_refused_request_can_be_retried_once_it_would_succeed(community: Community) -> None:
    app = community.app
    with pytest.raises(InsufficientMinutesError):
        app.transfer(
            actor_id=community.li, to_member_id=community.grandma, minutes=30, request_id="g"
        )
    community.earn(community.li, 30)
    transfer = app.transfer(
        actor_id=community.li, to_member_id=community.grandma, minutes=30, request_id="g"
    )
    assert app.get_account(community.grandma).balance_minutes == transfer.minutes == 30


# Members, teams and roles ----------------------------------------------------------------


def test_only_admins_register_members_and_form_teams(community: Community) -> None:
    app = community.app
    before = event_count(app)
    for actor in (community.care_coordinator, community.auditor, community.li, uuid4()):
        with pytest.raises(PermissionDeniedError):
            app.register_member(actor_id=actor, name="Someone")
        with pytest.raises(PermissionDeniedError):
            app.form_team(actor_id=actor, name="Haircut", community="Linkou")
    assert event_count(app) == before
    member = app.register_member(actor_id=community.admin, name="  Zhou Min  ")
    assert member.name == "Zhou Min"
    assert app.get_account(member.id).balance_minutes == 0


def test_coordinators_manage_members_of_their_own_team_only(community: Community) -> None:
    app = community.app
    newcomer = app.register_member(actor_id=community.admin, name="Newcomer").id
    team = app.add_team_member(
        actor_id=community.care_coordinator,
        team_id=community.care_team,
        member_id=newcomer,
        role=TeamRole.VOLUNTEER,
    )
    assert any(m.member_id == newcomer and m.since == TODAY for m in team.members)
    with pytest.raises(PermissionDeniedError):
        app.add_team_member(
            actor_id=community.patrol_coordinator,
            team_id=community.care_team,
            member_id=community.zhao,
            role=TeamRole.VOLUNTEER,
        )
    with pytest.raises(PermissionDeniedError):
        app.add_team_member(
            actor_id=community.li,
            team_id=community.care_team,
            member_id=community.zhao,
            role=TeamRole.VOLUNTEER,
        )
    with pytest.raises(NotFoundError):
        app.add_team_member(
            actor_id=community.admin,
            team_id=community.care_team,
            member_id=uuid4(),
            role=TeamRole.VOLUNTEER,
        )
    with pytest.raises(PermissionDeniedError):  # appointing coordinators is an admin's act
        app.add_team_member(
            actor_id=community.care_coordinator,
            team_id=community.care_team,
            member_id=community.li,
            role=TeamRole.COORDINATOR,
        )
    promoted = app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.li,
        role=TeamRole.COORDINATOR,
    )
    assert {(m.member_id, m.role) for m in promoted.members} >= {(community.li, "coordinator")}
    log = app.log_service(
        actor_id=community.wang,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=30,
        activity="home care",
    )
    assert app.approve_service(actor_id=community.li, service_log_id=log.id).status == "approved"


def test_a_coordinator_who_left_can_no_longer_review(community: Community) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=30,
        activity="home care",
    )
    app.remove_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.care_coordinator,
    )
    with pytest.raises(PermissionDeniedError):
        app.approve_service(actor_id=community.care_coordinator, service_log_id=log.id)


def test_unknown_things_are_not_found(community: Community) -> None:
    app = community.app
    for lookup in (
        app.get_member,
        app.get_team,
        app.get_service_log,
        app.get_redemption,
        app.get_transfer,
        app.get_account,
    ):
        with pytest.raises(NotFoundError):
            lookup(uuid4())
    with pytest.raises(NotFoundError):  # an id of another kind of thing
        app.get_team(community.li)
    with pytest.raises(NotFoundError):
        app.approve_service(actor_id=community.admin, service_log_id=uuid4())


# Policies ---------------------------------------------------------------------------------


def test_a_balance_cap_refuses_credit_beyond_it(store_url: str) -> None:
    app = open_ledger(store_url, Policy(seed=Rules(balance_cap_minutes=100)))
    try:
        community = build_community(app)
        community.earn(community.li, 80)
        log = app.log_service(
            actor_id=community.li,
            team_id=community.care_team,
            service_date=TODAY,
            minutes=30,
            activity="home care",
        )
        with pytest.raises(BalanceCapExceededError):
            app.approve_service(actor_id=community.care_coordinator, service_log_id=log.id)
        assert app.get_service_log(log.id).status == "pending"
        app.approve_service(actor_id=community.care_coordinator, service_log_id=log.id, minutes=20)
        community.earn(community.wang, 10)
        with pytest.raises(BalanceCapExceededError):
            app.transfer(actor_id=community.wang, to_member_id=community.li, minutes=1)
        assert app.get_account(community.li).balance_minutes == 100
    finally:
        app.close()


def test_a_redemption_age_lets_elders_redeem_and_refuses_the_young(store_url: str) -> None:
    app = open_ledger(store_url, Policy(seed=Rules(redemption_min_age=60)))
    try:
        community = build_community(app)
        community.earn(community.li, 120)
        with pytest.raises(PermissionDeniedError):  # no birth date known
            app.request_redemption(
                actor_id=community.li, team_id=community.care_team, service="care", minutes=60
            )
        app.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=120)
        held = app.request_redemption(
            actor_id=community.grandma, team_id=community.care_team, service="care", minutes=60
        )
        assert held.status == "held"
    finally:
        app.close()


# Storage ----------------------------------------------------------------------------------


def test_the_ledger_survives_a_restart_with_stable_event_topics(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('restart') / 'ledger.db'}"
    app = open_ledger(url)
    community = build_community(app)
    community.earn(community.li, 75)
    app.close()

    reopened = open_ledger(url)
    try:
        assert reopened.get_account(community.li).balance_minutes == 75
        topics = {n.topic for n in reopened.recorder.select_notifications(start=1, limit=1000)}
        assert "timebank:ServiceLog.Approved" in topics
        assert "timebank:Account.Earned" in topics
        assert all(topic.startswith("timebank:") for topic in topics)
    finally:
        reopened.close()


def test_the_aggregates_agree_with_a_replay_of_the_log(community: Community) -> None:
    app = community.app
    community.earn(community.li, 200)
    community.earn(community.zhao, 50, team=community.patrol_team)
    redemption = app.request_redemption(
        actor_id=community.li, team_id=community.care_team, service="care", minutes=50
    )
    app.request_redemption(
        actor_id=community.li, team_id=community.care_team, service="care", minutes=25
    )
    app.fulfil_redemption(actor_id=community.care_coordinator, redemption_id=redemption.id)
    app.transfer(actor_id=community.zhao, to_member_id=community.grandma, minutes=20)
    balances = replayed(app)
    assert balances.total() == 0
    for member_id, minutes in balances.members.items():
        account = app.get_account(member_id)
        assert (account.balance_minutes, account.held_minutes, account.available_minutes) == (
            minutes.balance,
            minutes.held,
            minutes.available,
        )
