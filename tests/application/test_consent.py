"""Nobody spends, credits or sees a member's minutes alone: consent and separation of duties.

Each case of the trust issue as the ledger's use cases meet it, on the three stores.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from projections.trust import trust_report
from tests.support import SINCE, TODAY, Community
from timebank import GlobalRole, TeamRole
from timebank.application import SYSTEM_ACTOR_ID
from timebank.errors import (
    InsufficientMinutesError,
    InvalidRequestError,
    PermissionDeniedError,
)


def grandma_has(community: Community, minutes: int) -> None:
    """Grandma Liu (in no team) holds `minutes`, given by Li."""
    community.earn(community.li, minutes)
    community.app.transfer(actor_id=community.li, to_member_id=community.grandma, minutes=minutes)


# 1. Minutes leave an account only with the member's consent ------------------------------


def test_no_coordinator_or_admin_alone_spends_an_elders_minutes(community: Community) -> None:
    app = community.app
    grandma_has(community, 120)
    for stranger, team in (
        (community.care_coordinator, community.care_team),
        (community.patrol_coordinator, community.patrol_team),
        (community.patrol_coordinator, community.care_team),
        (community.admin, community.care_team),
    ):
        with pytest.raises(PermissionDeniedError) as refused:
            app.request_redemption(
                actor_id=stranger,
                member_id=community.grandma,
                team_id=team,
                service="home care",
                minutes=90,
            )
        assert "consent" in refused.value.reason or "coordinator" in refused.value.reason
        with pytest.raises(PermissionDeniedError):
            app.transfer(
                actor_id=stranger,
                from_member_id=community.grandma,
                to_member_id=community.wang,
                minutes=30,
            )
    assert app.get_account(community.grandma).available_minutes == 120


def test_at_the_counter_her_card_code_consents_and_someone_else_confirms(
    community: Community,
) -> None:
    app = community.app
    grandma_has(community, 120)
    card = app.issue_card(actor_id=community.admin, member_id=community.grandma)
    assert card.code is not None
    with pytest.raises(PermissionDeniedError) as wrong:
        app.request_redemption(
            actor_id=community.care_coordinator,
            member_id=community.grandma,
            team_id=community.care_team,
            service="home care",
            minutes=90,
            card_code="00000000" if card.code != "00000000" else "11111111",
        )
    assert "code is wrong" in wrong.value.reason

    held = app.request_redemption(
        actor_id=community.care_coordinator,
        member_id=community.grandma,
        team_id=community.care_team,
        service="home care",
        minutes=90,
        card_code=card.code,
    )

    assert (held.consent, held.consented_by) == ("card", community.grandma)
    with pytest.raises(PermissionDeniedError):
        app.fulfil_redemption(actor_id=community.care_coordinator, redemption_id=held.id)
    app.fulfil_redemption(actor_id=community.admin, redemption_id=held.id)
    assert app.get_account(community.grandma).balance_minutes == 30


def test_whoever_printed_the_card_never_takes_its_code(community: Community) -> None:
    app = community.app
    grandma_has(community, 120)
    card = app.issue_card(actor_id=community.admin, member_id=community.grandma)

    with pytest.raises(PermissionDeniedError) as refused:
        app.request_redemption(
            actor_id=community.admin,
            member_id=community.grandma,
            team_id=community.care_team,
            service="home care",
            minutes=90,
            card_code=card.code,
        )

    assert "printed" in refused.value.reason


def test_an_agent_she_registered_redeems_and_gives_for_her_but_never_to_themself(
    community: Community,
) -> None:
    app = community.app
    grandma_has(community, 120)
    app.register_agent(
        actor_id=community.grandma, member_id=community.grandma, agent_id=community.wang
    )

    held = app.request_redemption(
        actor_id=community.wang,
        member_id=community.grandma,
        team_id=community.care_team,
        service="accompany to the clinic",
        minutes=60,
    )
    gift = app.transfer(
        actor_id=community.wang,
        from_member_id=community.grandma,
        to_member_id=community.li,
        minutes=30,
    )

    assert (held.consent, held.consented_by) == ("agent", community.wang)
    assert (gift.consent, gift.made_by, gift.from_member_id) == (
        "agent",
        community.wang,
        community.grandma,
    )
    with pytest.raises(InvalidRequestError):
        app.transfer(
            actor_id=community.wang,
            from_member_id=community.grandma,
            to_member_id=community.wang,
            minutes=10,
        )
    app.end_agent(actor_id=community.grandma, member_id=community.grandma, agent_id=community.wang)
    with pytest.raises(PermissionDeniedError):
        app.transfer(
            actor_id=community.wang,
            from_member_id=community.grandma,
            to_member_id=community.li,
            minutes=10,
        )


def test_nobody_else_names_an_agent_for_her(community: Community) -> None:
    app = community.app
    for stranger in (community.admin, community.care_coordinator, community.wang):
        with pytest.raises(PermissionDeniedError):
            app.register_agent(
                actor_id=stranger, member_id=community.grandma, agent_id=community.wang
            )
    card = app.issue_card(actor_id=SYSTEM_ACTOR_ID, member_id=community.grandma)
    named = app.register_agent(
        actor_id=community.admin,
        member_id=community.grandma,
        agent_id=community.wang,
        card_code=card.code,
    )
    assert [a.agent_id for a in named.agents] == [community.wang]


# 2. Nobody is credited by a decision they made or arranged --------------------------------


def test_only_an_admin_appoints_a_coordinator(community: Community) -> None:
    with pytest.raises(PermissionDeniedError):
        community.app.add_team_member(
            actor_id=community.care_coordinator,
            team_id=community.care_team,
            member_id=community.li,
            role=TeamRole.COORDINATOR,
        )


def test_nobody_approves_the_service_of_whoever_made_them_admin(community: Community) -> None:
    app = community.app
    app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.admin,
        role=TeamRole.VOLUNTEER,
        effective_date=SINCE,
    )
    app.grant_role(actor_id=community.admin, member_id=community.wang, role=GlobalRole.ADMIN)
    own = app.log_service(
        actor_id=community.admin,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=1440,
        activity="home care",
    )

    with pytest.raises(PermissionDeniedError) as refused:
        app.approve_service(actor_id=community.wang, service_log_id=own.id)

    assert "appointed" in refused.value.reason
    with pytest.raises(PermissionDeniedError):  # he made Chen coordinator, too
        app.approve_service(actor_id=community.care_coordinator, service_log_id=own.id)
    approved = app.approve_service(actor_id=SYSTEM_ACTOR_ID, service_log_id=own.id)
    assert approved.status == "approved"


def test_memberships_cannot_be_backdated_before_the_team_or_dated_far_ahead(
    community: Community,
) -> None:
    app = community.app
    for day in (date(1900, 1, 1), SINCE - timedelta(days=1), TODAY + timedelta(days=32)):
        with pytest.raises(InvalidRequestError):
            app.add_team_member(
                actor_id=community.admin,
                team_id=community.care_team,
                member_id=community.zhao,
                role=TeamRole.VOLUNTEER,
                effective_date=day,
            )


def test_a_credit_its_recorder_certified_is_marked_and_listed_for_auditors(
    community: Community,
) -> None:
    app = community.app
    log = app.log_service(
        actor_id=community.care_coordinator,
        volunteer_id=community.wang,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=1440,
        activity="home care",
    )

    approved = app.approve_service(actor_id=community.care_coordinator, service_log_id=log.id)

    assert approved.certified_by_recorder is True
    report = trust_report(app)
    [credit] = report.certified_by_recorder
    assert (credit.coordinator_id, credit.volunteer_id, credit.minutes) == (
        community.care_coordinator,
        community.wang,
        1440,
    )
    assert [(c.coordinator_id, c.minutes) for c in report.per_coordinator] == [
        (community.care_coordinator, 1440)
    ]
    community.earn(community.li, 60)  # logged by Li herself: not listed
    assert len(trust_report(app).certified_by_recorder) == 1


# 3. A credential someone else issued is marked, and what is spent with it listed ----------


def test_spends_with_a_token_an_admin_issued_are_listed_and_rotation_ends_it(
    community: Community,
) -> None:
    app = community.app
    community.earn(community.li, 120)
    issued = app.issue_token(actor_id=community.admin, member_id=community.li)
    assert issued.token is not None
    credential = app.sign_in(issued.token)
    assert credential is not None
    assert credential.issued_by_other

    app.transfer(
        actor_id=community.li,
        to_member_id=community.admin,
        minutes=60,
        credential_id=credential.id,
    )

    [spend] = trust_report(app).with_others_credentials
    assert (spend.member_id, spend.credential_id, spend.credential_issued_by) == (
        community.li,
        credential.id,
        community.admin,
    )
    rotated = app.rotate_token(actor_id=community.li, credential_id=credential.id)
    assert rotated.token is not None
    assert app.sign_in(issued.token) is None
    mine = app.sign_in(rotated.token)
    assert mine is not None
    assert not mine.issued_by_other


# 5. Refusals say what the rule is, not what another member holds --------------------------


def test_a_refusal_tells_only_the_member_how_many_minutes_they_have(community: Community) -> None:
    app = community.app
    grandma_has(community, 300)
    card = app.issue_card(actor_id=SYSTEM_ACTOR_ID, member_id=community.grandma)

    with pytest.raises(InsufficientMinutesError) as for_her:
        app.request_redemption(
            actor_id=community.care_coordinator,
            member_id=community.grandma,
            team_id=community.care_team,
            service="home care",
            minutes=100_000_000,
            card_code=card.code,
        )
    with pytest.raises(InsufficientMinutesError) as own:
        app.request_redemption(
            actor_id=community.grandma,
            team_id=community.care_team,
            service="home care",
            minutes=100_000_000,
        )

    assert "300 minutes" not in str(for_her.value)  # (a member id may hold the digits)
    assert "only available minutes" in str(for_her.value)
    assert "300 minutes available" in str(own.value)


# 6. Every membership can be ended by an admin ---------------------------------------------


def test_an_admin_ends_a_coordinatorship_whose_change_is_dated_ahead(community: Community) -> None:
    app = community.app
    with pytest.raises(InvalidRequestError):
        app.add_team_member(
            actor_id=community.admin,
            team_id=community.care_team,
            member_id=community.care_coordinator,
            role=TeamRole.VOLUNTEER,
            effective_date=date(9999, 12, 31),
        )
    app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.care_coordinator,
        role=TeamRole.VOLUNTEER,
        effective_date=TODAY + timedelta(days=20),
    )

    app.remove_team_member(
        actor_id=community.admin, team_id=community.care_team, member_id=community.care_coordinator
    )

    log = app.log_service(
        actor_id=community.li,
        team_id=community.care_team,
        service_date=TODAY,
        minutes=30,
        activity="home care",
    )
    with pytest.raises(PermissionDeniedError):
        app.approve_service(actor_id=community.care_coordinator, service_log_id=log.id)
    again = app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.care_coordinator,
        role=TeamRole.COORDINATOR,
    )
    assert any(m.member_id == community.care_coordinator for m in again.members)


def test_a_coordinator_ends_volunteers_but_not_a_fellow_coordinator(community: Community) -> None:
    app = community.app
    app.add_team_member(
        actor_id=community.admin,
        team_id=community.care_team,
        member_id=community.zhao,
        role=TeamRole.COORDINATOR,
    )
    with pytest.raises(PermissionDeniedError):
        app.remove_team_member(
            actor_id=community.care_coordinator,
            team_id=community.care_team,
            member_id=community.zhao,
        )
    app.remove_team_member(
        actor_id=community.care_coordinator, team_id=community.care_team, member_id=community.wang
    )
