"""Members: registration, global roles and age, given events -> one command -> new events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import CanMutateAggregate

from timebank.errors import InvalidRequestError, InvalidStateError
from timebank.members import GlobalRole, Member

TODAY = date(2026, 11, 20)
ADMIN_ID = uuid4()


def registered(
    *,
    name: str = "Wang Fang",
    birth_date: date | None = date(1950, 3, 15),
    roles: list[GlobalRole] | None = None,
) -> Member:
    """Given: a registered member whose registration is already recorded."""
    member = Member.register(
        actor_id=ADMIN_ID,
        name=name,
        birth_date=birth_date,
        roles=roles or [],
        today=TODAY,
    )
    member.collect_events()
    return member


def test_registering_records_who_registered_whom_with_a_trimmed_name() -> None:
    member = Member.register(
        actor_id=ADMIN_ID,
        name="  Wang Fang  ",
        birth_date=date(1950, 3, 15),
        roles=[],
        today=TODAY,
    )

    [e] = member.collect_events()
    assert isinstance(e, Member.Registered)
    assert e.actor_id == ADMIN_ID
    assert e.name == "Wang Fang"
    assert e.birth_date == date(1950, 3, 15)
    assert e.roles == []
    assert e.originator_id == member.id
    assert member.name == "Wang Fang"
    assert not member.is_admin
    assert not member.is_auditor


def test_registering_keeps_each_role_once_in_a_stable_order() -> None:
    member = Member.register(
        actor_id=ADMIN_ID,
        name="Li Wei",
        birth_date=None,
        roles=[GlobalRole.AUDITOR, GlobalRole.ADMIN, GlobalRole.AUDITOR],
        today=TODAY,
    )

    [e] = member.collect_events()
    assert isinstance(e, Member.Registered)
    assert e.roles == ["admin", "auditor"]
    assert member.roles == {"admin", "auditor"}
    assert member.is_admin
    assert member.is_auditor


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_blank_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Member.register(actor_id=ADMIN_ID, name=name, birth_date=None, roles=[], today=TODAY)

    assert refused.value.field == "name"


def test_a_name_of_100_characters_is_accepted_even_with_spaces_around_it() -> None:
    member = Member.register(
        actor_id=ADMIN_ID, name=f"  {'a' * 100}  ", birth_date=None, roles=[], today=TODAY
    )

    assert member.name == "a" * 100


def test_a_name_of_101_characters_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Member.register(actor_id=ADMIN_ID, name="a" * 101, birth_date=None, roles=[], today=TODAY)

    assert refused.value.field == "name"


def test_a_birth_date_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Member.register(
            actor_id=ADMIN_ID,
            name="Wang Fang",
            birth_date=TODAY + timedelta(days=1),
            roles=[],
            today=TODAY,
        )

    assert refused.value.field == "birth_date"


def test_a_member_born_today_can_be_registered() -> None:
    member = Member.register(
        actor_id=ADMIN_ID, name="Baby Wang", birth_date=TODAY, roles=[], today=TODAY
    )

    assert member.birth_date == TODAY
    assert member.age_on(TODAY) == 0


def test_granting_a_role_records_it_and_who_granted_it() -> None:
    member = registered()
    other_admin = uuid4()

    member.grant(actor_id=other_admin, role=GlobalRole.AUDITOR)

    [e] = member.collect_events()
    assert isinstance(e, Member.RoleGranted)
    assert e.role == "auditor"
    assert e.actor_id == other_admin
    assert member.is_auditor
    assert not member.is_admin


def test_granting_a_role_already_held_is_refused_and_records_nothing() -> None:
    member = registered(roles=[GlobalRole.ADMIN])

    with pytest.raises(InvalidStateError):
        member.grant(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)

    assert member.collect_events() == []
    assert member.roles == {"admin"}


def test_revoking_a_role_records_it_and_the_member_loses_it() -> None:
    member = registered(roles=[GlobalRole.ADMIN, GlobalRole.AUDITOR])

    member.revoke(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)

    [e] = member.collect_events()
    assert isinstance(e, Member.RoleRevoked)
    assert e.role == "admin"
    assert e.actor_id == ADMIN_ID
    assert not member.is_admin
    assert member.is_auditor


def test_revoking_a_role_not_held_is_refused_and_records_nothing() -> None:
    member = registered(roles=[GlobalRole.AUDITOR])

    with pytest.raises(InvalidStateError):
        member.revoke(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)

    assert member.collect_events() == []
    assert member.roles == {"auditor"}


def test_a_revoked_role_can_be_granted_again() -> None:
    member = registered(roles=[GlobalRole.ADMIN])
    member.revoke(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)
    member.collect_events()

    member.grant(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)

    [e] = member.collect_events()
    assert isinstance(e, Member.RoleGranted)
    assert member.is_admin


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2026, 3, 14), 75),  # the day before the birthday
        (date(2026, 3, 15), 76),  # the birthday itself
        (date(2026, 3, 16), 76),
        (date(2026, 12, 31), 76),
        (date(2027, 1, 1), 76),
        (date(1950, 3, 15), 0),  # the day of birth
    ],
)
def test_age_counts_whole_years_and_turns_on_the_birthday(day: date, age: int) -> None:
    member = registered(birth_date=date(1950, 3, 15))

    assert member.age_on(day) == age


def test_age_is_unknown_without_a_birth_date() -> None:
    member = registered(birth_date=None)

    assert member.age_on(TODAY) is None


def test_replaying_the_events_reproduces_the_member() -> None:
    member = Member.register(
        actor_id=ADMIN_ID,
        name="Wang Fang",
        birth_date=date(1950, 3, 15),
        roles=[GlobalRole.ADMIN],
        today=TODAY,
    )
    member.grant(actor_id=ADMIN_ID, role=GlobalRole.AUDITOR)
    member.revoke(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)

    copy = replay(member.collect_events())

    assert copy.id == member.id
    assert copy.name == "Wang Fang"
    assert copy.birth_date == date(1950, 3, 15)
    assert copy.roles == {"auditor"}
    assert copy.version == member.version == 3


def replay(events: Sequence[CanMutateAggregate[UUID]]) -> Member:
    """Rebuild a member from its recorded events alone, as a repository would."""
    copy: Member | None = None
    for e in events:
        copy = e.mutate(copy)
    assert copy is not None
    return copy


# Agents (家属代办) ------------------------------------------------------------------------

SECRET = b"card-secret-for-the-domain-tests-0123456789"


def test_a_member_names_an_agent_from_a_day_on_and_it_acts_only_on_those_days() -> None:
    member, agent = registered(), uuid4()

    member.register_agent(
        actor_id=member.id,
        agent_id=agent,
        since=TODAY,
        until=TODAY + timedelta(days=30),
        consent="member",
        today=TODAY,
    )

    [e] = member.collect_events()
    assert isinstance(e, Member.AgentRegistered)
    assert (e.actor_id, e.agent_id, e.since, e.consent) == (member.id, agent, TODAY, "member")
    assert member.is_agent_on(agent, TODAY)
    assert member.is_agent_on(agent, TODAY + timedelta(days=29))
    assert not member.is_agent_on(agent, TODAY + timedelta(days=30))
    assert not member.is_agent_on(agent, TODAY - timedelta(days=1))
    assert not member.is_agent_on(uuid4(), TODAY)


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        (TODAY - timedelta(days=1), None, "since"),  # no agency for days already past
        (TODAY, TODAY, "until"),  # it would cover no day
    ],
)
def test_an_agency_covers_days_from_today_on(since: date, until: date | None, field: str) -> None:
    member = registered()

    with pytest.raises(InvalidRequestError) as refused:
        member.register_agent(
            actor_id=member.id,
            agent_id=uuid4(),
            since=since,
            until=until,
            consent="member",
            today=TODAY,
        )

    assert refused.value.field == field
    assert member.collect_events() == []


def test_a_member_is_not_their_own_agent_and_an_agent_is_named_once() -> None:
    member, agent = registered(), uuid4()
    with pytest.raises(InvalidRequestError):
        member.register_agent(
            actor_id=member.id,
            agent_id=member.id,
            since=TODAY,
            until=None,
            consent="member",
            today=TODAY,
        )
    member.register_agent(
        actor_id=member.id, agent_id=agent, since=TODAY, until=None, consent="member", today=TODAY
    )
    member.collect_events()

    with pytest.raises(InvalidStateError):
        member.register_agent(
            actor_id=member.id,
            agent_id=agent,
            since=TODAY + timedelta(days=3),
            until=None,
            consent="member",
            today=TODAY,
        )
    assert member.collect_events() == []


def test_ending_an_agency_stops_it_from_that_day_and_withdraws_one_not_yet_begun() -> None:
    member, agent, later = registered(), uuid4(), uuid4()
    member.register_agent(
        actor_id=member.id, agent_id=agent, since=TODAY, until=None, consent="member", today=TODAY
    )
    member.register_agent(
        actor_id=member.id,
        agent_id=later,
        since=TODAY + timedelta(days=10),
        until=None,
        consent="member",
        today=TODAY,
    )
    member.collect_events()

    member.end_agent(actor_id=member.id, agent_id=agent, effective_date=TODAY + timedelta(days=1))
    member.end_agent(actor_id=member.id, agent_id=later, effective_date=TODAY)

    assert member.is_agent_on(agent, TODAY)
    assert not member.is_agent_on(agent, TODAY + timedelta(days=1))
    assert not member.is_agent_on(later, TODAY + timedelta(days=20))
    with pytest.raises(InvalidStateError):
        member.end_agent(actor_id=member.id, agent_id=later, effective_date=TODAY)


# The member card (爱心服务卡) --------------------------------------------------------------


def test_a_card_keeps_only_a_digest_of_its_code_which_then_consents() -> None:
    member, credential = registered(), uuid4()

    code = member.issue_card(actor_id=ADMIN_ID, secret=SECRET, credential_id=credential)

    [e] = member.collect_events()
    assert isinstance(e, Member.CardIssued)
    assert (e.actor_id, e.card_number, e.credential_id) == (ADMIN_ID, 1, credential)
    assert len(code) == 8
    assert code.isdigit()
    assert code not in repr(vars(e))  # never the code itself
    assert member.card_accepts(code)
    assert member.card_accepts(f"{code[:4]} {code[4:]}")  # as printed on the card
    assert not member.card_accepts(f"{(int(code) + 1) % 10**8:08d}")
    assert member.card_issued_by == ADMIN_ID
    assert member.card_code(SECRET) == code  # the repeat of a request prints it again
    assert member.card_code(b"another secret entirely, of a good length!!") is None


def test_a_new_card_makes_the_old_code_useless() -> None:
    member = registered()
    old = member.issue_card(actor_id=ADMIN_ID, secret=SECRET, credential_id=uuid4())

    new = member.issue_card(actor_id=ADMIN_ID, secret=SECRET, credential_id=uuid4())

    assert member.card_number == 2
    assert member.card_accepts(new)
    assert old == new or not member.card_accepts(old)


def test_a_member_without_a_card_accepts_no_code() -> None:
    assert not registered().card_accepts("12345678")


# Honour walls and who granted roles --------------------------------------------------------


def test_a_member_chooses_to_appear_anonymously_and_back() -> None:
    member = registered()

    member.choose_publicity(actor_id=member.id, anonymous=True)

    [e] = member.collect_events()
    assert isinstance(e, Member.PublicityChosen)
    assert member.anonymous
    with pytest.raises(InvalidStateError):
        member.choose_publicity(actor_id=member.id, anonymous=True)
    member.choose_publicity(actor_id=member.id, anonymous=False)
    assert not member.anonymous


def test_a_member_remembers_who_granted_each_role_they_hold() -> None:
    member, other_admin = registered(), uuid4()

    member.grant(actor_id=other_admin, role=GlobalRole.ADMIN)

    assert member.granted_by == {"admin": other_admin}
    member.revoke(actor_id=ADMIN_ID, role=GlobalRole.ADMIN)
    assert member.granted_by == {}


def test_a_birth_date_before_1900_is_refused_as_a_slip() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Member.register(
            actor_id=ADMIN_ID, name="Wang Fang", birth_date=date(1, 1, 1), roles=[], today=TODAY
        )

    assert (refused.value.field, refused.value.message) == (
        "birth_date",
        "must not be before 1900-01-01",
    )


def test_a_name_that_reverses_on_screen_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        Member.register(
            actor_id=ADMIN_ID, name="Wang \u202eFang", birth_date=None, roles=[], today=TODAY
        )

    assert (refused.value.field, refused.value.message) == (
        "name",
        "must not contain characters that reverse or reorder the text",
    )
