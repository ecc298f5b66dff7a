"""Teams and their dated memberships, given events -> one command -> new events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.teams import Membership, Team, TeamRole

ADMIN_ID = uuid4()
FOUNDED = date(2025, 6, 1)
JAN_1 = date(2026, 1, 1)
MAY_31 = date(2026, 5, 31)
JUN_1 = date(2026, 6, 1)
SEP_30 = date(2026, 9, 30)
OCT_1 = date(2026, 10, 1)
TODAY = date(2026, 11, 20)
LEAD_DAYS = 31


def form(name: str = "Veterans' patrol", community: str = "Xinghuo") -> Team:
    return Team.form(
        actor_id=ADMIN_ID, name=name, community=community, founded_on=FOUNDED, today=TODAY
    )


def formed() -> Team:
    """Given: a team with no members, its formation already recorded."""
    team = form()
    team.collect_events()
    return team


def add(
    team: Team,
    member_id: UUID,
    role: TeamRole,
    since: date,
    *,
    actor_id: UUID = ADMIN_ID,
    accepted: bool = False,
) -> None:
    team.add_member(
        actor_id=actor_id,
        member_id=member_id,
        role=role,
        effective_date=since,
        accepted=accepted,
        today=TODAY,
        lead_days=LEAD_DAYS,
    )


def remove(team: Team, member_id: UUID, on: date) -> None:
    team.remove_member(
        actor_id=ADMIN_ID, member_id=member_id, effective_date=on, today=TODAY, lead_days=LEAD_DAYS
    )


def M(  # noqa: N802 - reads like the Membership it makes
    member_id: UUID, role: TeamRole, since: date, until: date | None = None
) -> Membership:
    """A membership an admin added."""
    return Membership(member_id, role, since, until, ADMIN_ID)


def with_member(role: TeamRole = TeamRole.VOLUNTEER, since: date = JAN_1) -> tuple[Team, UUID]:
    """Given: a team with one member who joined on `since`."""
    team = formed()
    member_id = uuid4()
    add(team, member_id, role, since)
    team.collect_events()
    return team, member_id


def test_forming_a_team_records_its_trimmed_name_and_community() -> None:
    team = form(name="  Lecture team ", community=" Xinghuo  ")

    [e] = team.collect_events()
    assert isinstance(e, Team.Formed)
    assert e.actor_id == ADMIN_ID
    assert e.name == "Lecture team"
    assert e.community == "Xinghuo"
    assert e.founded_on == FOUNDED
    assert team.name == "Lecture team"
    assert team.community == "Xinghuo"
    assert team.memberships == []


@pytest.mark.parametrize(
    ("name", "community", "field"), [(" ", "Xinghuo", "name"), ("Patrol", "", "community")]
)
def test_a_team_needs_a_name_and_a_community(name: str, community: str, field: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        form(name=name, community=community)

    assert refused.value.field == field


def test_a_team_cannot_be_founded_tomorrow() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Team.form(
            actor_id=ADMIN_ID,
            name="Patrol",
            community="Xinghuo",
            founded_on=date(2026, 11, 21),
            today=TODAY,
        )

    assert refused.value.field == "founded_on"


def test_adding_a_member_records_their_role_from_the_effective_date() -> None:
    team = formed()
    member_id = uuid4()

    add(team, member_id, TeamRole.VOLUNTEER, JAN_1)

    [e] = team.collect_events()
    assert isinstance(e, Team.MemberJoined)
    assert e.actor_id == ADMIN_ID
    assert e.member_id == member_id
    assert e.role == "volunteer"
    assert e.effective_date == JAN_1
    assert team.current_members() == [M(member_id, TeamRole.VOLUNTEER, JAN_1)]
    assert team.role_on(member_id, JAN_1) is TeamRole.VOLUNTEER


def test_a_role_change_closes_the_old_stretch_and_opens_a_new_one_on_the_same_day() -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JAN_1)

    add(team, member_id, TeamRole.COORDINATOR, JUN_1)

    [e] = team.collect_events()
    assert isinstance(e, Team.MemberJoined)
    assert e.role == "coordinator"
    assert e.effective_date == JUN_1
    assert team.memberships == [
        M(member_id, TeamRole.VOLUNTEER, JAN_1, JUN_1),
        M(member_id, TeamRole.COORDINATOR, JUN_1),
    ]
    assert team.role_on(member_id, MAY_31) is TeamRole.VOLUNTEER
    assert team.role_on(member_id, JUN_1) is TeamRole.COORDINATOR
    assert team.current_members() == [M(member_id, TeamRole.COORDINATOR, JUN_1)]


def test_a_role_change_leaves_the_other_members_untouched() -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JAN_1)
    other_id = uuid4()
    add(team, other_id, TeamRole.VOLUNTEER, JAN_1)
    team.collect_events()

    add(team, member_id, TeamRole.COORDINATOR, JUN_1)

    assert team.role_on(other_id, OCT_1) is TeamRole.VOLUNTEER
    assert M(other_id, TeamRole.VOLUNTEER, JAN_1) in team.current_members()


@pytest.mark.parametrize("role", list(TeamRole))
def test_adding_a_member_again_in_the_same_role_is_refused(role: TeamRole) -> None:
    team, member_id = with_member(role, since=JAN_1)

    with pytest.raises(InvalidStateError):
        add(team, member_id, role, JUN_1)

    assert team.collect_events() == []
    assert team.memberships == [M(member_id, role, JAN_1)]


def test_a_role_change_dated_before_the_current_stretch_began_is_refused() -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JUN_1)

    with pytest.raises(InvalidRequestError) as refused:
        add(team, member_id, TeamRole.COORDINATOR, MAY_31)

    assert refused.value.field == "effective_date"
    assert team.collect_events() == []
    assert team.memberships == [M(member_id, TeamRole.VOLUNTEER, JUN_1)]


def test_rejoining_before_the_previous_stretch_ended_is_refused() -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JAN_1)
    remove(team, member_id, JUN_1)
    team.collect_events()

    with pytest.raises(InvalidRequestError) as refused:
        add(team, member_id, TeamRole.VOLUNTEER, MAY_31)

    assert refused.value.field == "effective_date"
    assert team.collect_events() == []
    assert team.memberships == [M(member_id, TeamRole.VOLUNTEER, JAN_1, JUN_1)]


def test_rejoining_on_the_day_the_previous_stretch_ended_starts_a_new_stretch() -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JAN_1)
    remove(team, member_id, JUN_1)
    team.collect_events()

    add(team, member_id, TeamRole.VOLUNTEER, JUN_1)

    [e] = team.collect_events()
    assert isinstance(e, Team.MemberJoined)
    assert team.memberships == [
        M(member_id, TeamRole.VOLUNTEER, JAN_1, JUN_1),
        M(member_id, TeamRole.VOLUNTEER, JUN_1),
    ]


def test_removing_a_member_ends_their_stretch_and_keeps_their_history() -> None:
    team, member_id = with_member(TeamRole.COORDINATOR, since=JAN_1)

    remove(team, member_id, OCT_1)

    [e] = team.collect_events()
    assert isinstance(e, Team.MemberLeft)
    assert e.actor_id == ADMIN_ID
    assert e.member_id == member_id
    assert e.effective_date == OCT_1
    assert team.current_members() == []
    assert team.memberships == [M(member_id, TeamRole.COORDINATOR, JAN_1, OCT_1)]
    assert team.role_on(member_id, SEP_30) is TeamRole.COORDINATOR
    assert team.role_on(member_id, OCT_1) is None
    assert team.is_coordinator_on(member_id, SEP_30)
    assert not team.is_coordinator_on(member_id, OCT_1)


def test_removing_someone_who_never_joined_is_refused() -> None:
    team, member_id = with_member()

    with pytest.raises(InvalidStateError):
        remove(team, uuid4(), JUN_1)

    assert team.collect_events() == []
    assert team.memberships == [M(member_id, TeamRole.VOLUNTEER, JAN_1)]


def test_removing_someone_who_already_left_is_refused() -> None:
    team, member_id = with_member(since=JAN_1)
    remove(team, member_id, JUN_1)
    team.collect_events()

    with pytest.raises(InvalidStateError):
        remove(team, member_id, OCT_1)

    assert team.collect_events() == []
    assert team.memberships == [M(member_id, TeamRole.VOLUNTEER, JAN_1, JUN_1)]


def test_leaving_before_the_membership_began_withdraws_it() -> None:
    team, member_id = with_member(since=JUN_1)

    remove(team, member_id, MAY_31)

    [e] = team.collect_events()
    assert isinstance(e, Team.MemberLeft)
    assert team.current_members() == []
    assert all(team.role_on(member_id, day) is None for day in (MAY_31, JUN_1, OCT_1))


def test_leaving_ends_the_current_role_and_withdraws_a_role_change_dated_ahead() -> None:
    """A coordinator whose change back to volunteer is dated a month ahead leaves today:
    they coordinate no longer, and the later stretch never begins."""
    team, member_id = with_member(TeamRole.COORDINATOR, since=JAN_1)
    add(team, member_id, TeamRole.VOLUNTEER, date(2026, 12, 20))
    team.collect_events()

    remove(team, member_id, TODAY)

    assert not team.is_coordinator_on(member_id, TODAY)
    assert team.role_on(member_id, date(2026, 12, 25)) is None
    assert team.current_members() == []
    add(team, member_id, TeamRole.VOLUNTEER, TODAY)  # and they may join again from today
    assert team.role_on(member_id, TODAY) is TeamRole.VOLUNTEER


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2025, 5, 31), "before the team was founded"),
        (date(1900, 1, 1), "before the team was founded"),
        (date(2026, 12, 22), "at most 31 days ahead"),
        (date(9999, 12, 31), "at most 31 days ahead"),
    ],
)
def test_a_membership_starts_within_the_teams_life_and_at_most_a_month_ahead(
    day: date, message: str
) -> None:
    team = formed()

    with pytest.raises(InvalidRequestError) as refused:
        add(team, uuid4(), TeamRole.COORDINATOR, day)

    assert refused.value.field == "effective_date"
    assert message in refused.value.message
    assert team.collect_events() == []


def test_a_membership_records_who_added_it() -> None:
    team = formed()
    member_id, coordinator_id = uuid4(), uuid4()

    add(team, member_id, TeamRole.VOLUNTEER, JAN_1, actor_id=coordinator_id)

    assert team.current_members() == [
        Membership(member_id, TeamRole.VOLUNTEER, JAN_1, None, coordinator_id)
    ]


def test_a_membership_is_accepted_once_by_its_member_and_until_they_leave() -> None:
    team, member_id = with_member()
    assert not team.has_accepted(member_id)

    team.accept(actor_id=member_id, member_id=member_id)

    [e] = team.collect_events()
    assert isinstance(e, Team.MembershipAccepted)
    assert (e.actor_id, e.member_id) == (member_id, member_id)
    assert team.has_accepted(member_id)
    with pytest.raises(InvalidStateError):
        team.accept(actor_id=member_id, member_id=member_id)
    add(team, member_id, TeamRole.COORDINATOR, JUN_1)  # a role change keeps it
    assert team.has_accepted(member_id)
    remove(team, member_id, OCT_1)
    assert not team.has_accepted(member_id)
    with pytest.raises(InvalidStateError):
        team.accept(actor_id=member_id, member_id=member_id)


def test_a_member_who_adds_themself_has_accepted() -> None:
    team = formed()
    member_id = uuid4()

    add(team, member_id, TeamRole.VOLUNTEER, JAN_1, actor_id=member_id, accepted=True)

    assert team.has_accepted(member_id)


def test_leaving_on_the_day_of_joining_leaves_no_day_of_membership() -> None:
    team, member_id = with_member(since=JUN_1)

    remove(team, member_id, JUN_1)

    [e] = team.collect_events()
    assert isinstance(e, Team.MemberLeft)
    assert team.role_on(member_id, JUN_1) is None
    assert team.current_members() == []


@pytest.mark.parametrize(
    ("day", "role"),
    [
        (MAY_31, None),  # before joining
        (JUN_1, TeamRole.VOLUNTEER),  # since is inclusive
        (SEP_30, TeamRole.VOLUNTEER),  # the last day of the stretch
        (OCT_1, None),  # until is exclusive
    ],
)
def test_the_role_on_a_day_counts_from_since_up_to_but_not_on_until(
    day: date, role: TeamRole | None
) -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JUN_1)
    remove(team, member_id, OCT_1)

    assert team.role_on(member_id, day) is role


def test_someone_who_never_joined_has_no_role() -> None:
    team, _ = with_member()

    assert team.role_on(uuid4(), JUN_1) is None
    assert not team.is_coordinator_on(uuid4(), JUN_1)


@pytest.mark.parametrize(
    ("day", "is_coordinator"),
    [(MAY_31, False), (JUN_1, True), (SEP_30, True), (OCT_1, False)],
)
def test_a_member_coordinates_only_while_holding_the_coordinator_role(
    day: date, is_coordinator: bool
) -> None:
    team, member_id = with_member(TeamRole.VOLUNTEER, since=JAN_1)
    add(team, member_id, TeamRole.COORDINATOR, JUN_1)
    add(team, member_id, TeamRole.VOLUNTEER, OCT_1)

    assert team.is_coordinator_on(member_id, day) is is_coordinator


def test_replaying_the_events_reproduces_the_team_and_its_history() -> None:
    team = form(name="Haircut team", community="Dongcheng")
    member_id, other_id = uuid4(), uuid4()
    add(team, member_id, TeamRole.VOLUNTEER, JAN_1)
    add(team, other_id, TeamRole.VOLUNTEER, JAN_1)
    add(team, member_id, TeamRole.COORDINATOR, JUN_1)
    remove(team, other_id, OCT_1)

    copy = replay(team.collect_events())

    assert copy.id == team.id
    assert copy.version == team.version == 5
    assert copy.name == "Haircut team"
    assert copy.community == "Dongcheng"
    assert copy.memberships == [
        M(member_id, TeamRole.VOLUNTEER, JAN_1, JUN_1),
        M(other_id, TeamRole.VOLUNTEER, JAN_1, OCT_1),
        M(member_id, TeamRole.COORDINATOR, JUN_1),
    ]
    assert copy.is_coordinator_on(member_id, OCT_1)


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Team:
    """Rebuild a team from its recorded events alone, as a repository would."""
    copy: Team | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy
