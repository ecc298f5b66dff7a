"""Rankings folded from literal events: ties, periods, late approvals and reversals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from eventsourcing.domain import AggregateEvent

from projections.periods import parse_period
from tests.projections.events import (
    approved,
    joined,
    logged,
    make,
    member,
    rejected,
    reversed_,
    served,
    team,
)
from tests.projections.folding import fold
from timebank.teams import Team

CARE, PATROL, CLINIC, HAIRCUT = uuid4(), uuid4(), uuid4(), uuid4()
LI, WANG, ZHAO, SUN = sorted(uuid4() for _ in range(4))  # tied volunteers list by id


def community() -> list[AggregateEvent]:
    return [
        team(CARE, "Day care", "Dongcheng"),
        team(PATROL, "Night patrol", "Xinghuo"),
        team(CLINIC, "Clinic", "Dongcheng"),
        team(HAIRCUT, "Haircut", "Dongcheng"),
        member(LI, "Li"),
        member(WANG, "Wang"),
        member(ZHAO, "Zhao"),
        member(SUN, "Sun"),
        joined(CARE, LI, 2),
        joined(CARE, WANG, 3),
        joined(PATROL, ZHAO, 2),
        joined(CLINIC, SUN, 2),
    ]


def ranks(rows: Iterable[object]) -> list[tuple[int, str, int]]:
    return [(r.rank, r.name, r.minutes) for r in rows]  # type: ignore[attr-defined]


def test_ties_share_a_rank_and_are_listed_by_name() -> None:
    state = fold(
        [
            *community(),
            *served(ZHAO, PATROL, date(2026, 11, 3), 90),
            *served(LI, CARE, date(2026, 11, 3), 60),
            *served(SUN, CLINIC, date(2026, 11, 4), 60),
        ]
    )
    rows = state.team_rankings(parse_period("2026-11"))
    assert ranks(rows) == [
        (1, "Night patrol", 90),
        (2, "Clinic", 60),
        (2, "Day care", 60),
        (4, "Haircut", 0),
    ]


def test_names_tie_break_in_code_point_order() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    state = fold([team(a, "乙队", "X"), team(b, "Zeta", "X"), team(c, "alpha", "X")])
    assert [r.name for r in state.team_rankings(parse_period("all"))] == [
        "Zeta",
        "alpha",
        "乙队",
    ]


def test_a_row_counts_minutes_volunteers_person_times_and_sessions() -> None:
    state = fold(
        [
            *community(),
            *served(LI, CARE, date(2026, 11, 3), 60, "home care"),
            *served(WANG, CARE, date(2026, 11, 3), 45, "home care"),  # same session
            *served(LI, CARE, date(2026, 11, 3), 30, "haircut"),  # another session
            *served(LI, CARE, date(2026, 11, 5), 30, "home care"),
        ]
    )
    [care] = [r for r in state.team_rankings(parse_period("2026-11")) if r.team_id == CARE]
    assert (care.minutes, care.volunteers, care.person_times, care.sessions) == (165, 2, 4, 3)


def test_an_activity_is_one_session_whatever_its_attendees_wrote() -> None:
    clinic, second_clinic = uuid4(), uuid4()
    day = date(2026, 11, 7)
    state = fold(
        [
            *community(),
            joined(CARE, SUN, 4),
            *served(LI, CARE, day, 120, "健康义诊", clinic),
            *served(WANG, CARE, day, 120, "健康义诊", clinic),
            *served(SUN, CARE, day, 60, "健康义诊 量血压", clinic),  # the same clinic
            *served(LI, CARE, day, 60, "健康义诊", second_clinic),  # the afternoon's
            *served(WANG, CARE, day, 30, "健康义诊"),  # logged alone: today's rule
            *served(SUN, CARE, day, 30, "健康义诊 量血压"),
        ]
    )
    [care] = [r for r in state.team_rankings(parse_period("2026-11")) if r.team_id == CARE]
    assert (care.minutes, care.volunteers, care.person_times, care.sessions) == (420, 3, 6, 4)
    li = {r.member_id: r for r in state.volunteer_rankings(parse_period("2026-11"))}[LI]
    assert (li.minutes, li.person_times, li.sessions) == (180, 2, 2)


def test_only_approved_unreversed_minutes_count() -> None:
    pending, refused, undone, partial = uuid4(), uuid4(), uuid4(), uuid4()
    day = date(2026, 11, 3)
    state = fold(
        [
            *community(),
            logged(pending, LI, CARE, day, 60),
            logged(refused, LI, CARE, day, 60),
            rejected(refused),
            logged(undone, LI, CARE, day, 60),
            approved(undone, 60),
            reversed_(undone),
            logged(partial, WANG, CARE, day, 90),
            approved(partial, 40),
        ]
    )
    [care] = [r for r in state.team_rankings(parse_period("all")) if r.team_id == CARE]
    assert (care.minutes, care.volunteers, care.person_times) == (40, 1, 1)


def test_a_late_approval_lands_in_the_month_of_the_service() -> None:
    log_id = uuid4()
    october_service = date(2026, 10, 31)
    approved_in_november = datetime(2026, 11, 15, tzinfo=UTC)
    events = [
        *community(),
        logged(log_id, LI, CARE, october_service, 120),
        approved(log_id, 120, at=approved_in_november),
    ]
    state = fold(events)
    october = {r.team_id: r.minutes for r in state.team_rankings(parse_period("2026-10"))}
    november = {r.team_id: r.minutes for r in state.team_rankings(parse_period("2026-11"))}
    assert (october[CARE], november[CARE]) == (120, 0)


def test_a_reversal_months_later_takes_the_minutes_out_of_the_past_period() -> None:
    log_id = uuid4()
    events = [
        *community(),
        logged(log_id, LI, CARE, date(2026, 3, 10), 120),
        approved(log_id, 120),
    ]
    before = fold(events)
    assert before.team_rankings(parse_period("2026-03"))[0].minutes == 120
    after = fold([*events, reversed_(log_id, at=datetime(2026, 11, 1, tzinfo=UTC))])
    march = {r.team_id: r.minutes for r in after.team_rankings(parse_period("2026-03"))}
    assert march[CARE] == 0


def test_iso_weeks_across_a_year_end() -> None:
    state = fold(
        [
            *community(),
            *served(LI, CARE, date(2025, 12, 29), 60),  # Monday of 2026-W01
            *served(LI, CARE, date(2026, 1, 4), 30),  # Sunday of 2026-W01
            *served(LI, CARE, date(2025, 12, 28), 15),  # Sunday of 2025-W52
        ]
    )

    def care(period: str) -> int:
        rows = state.team_rankings(parse_period(period))
        return next(r.minutes for r in rows if r.team_id == CARE)

    assert care("2026-W01") == 90
    assert care("2025-W52") == 15
    assert care("2025") == 75
    assert care("2026") == 30
    assert care("2025-12") == 75


def test_a_community_filter_keeps_only_its_teams_zero_included() -> None:
    state = fold([*community(), *served(ZHAO, PATROL, date(2026, 11, 3), 90)])
    rows = state.team_rankings(parse_period("all"), community="Dongcheng")
    assert [(r.rank, r.name, r.minutes) for r in rows] == [
        (1, "Clinic", 0),
        (1, "Day care", 0),
        (1, "Haircut", 0),
    ]
    assert state.team_rankings(parse_period("all"), community="Nowhere") == []


def test_volunteer_rankings_within_a_team_a_community_or_everywhere() -> None:
    state = fold(
        [
            *community(),
            *served(LI, CARE, date(2026, 11, 3), 60),
            *served(WANG, CARE, date(2026, 11, 3), 60),
            *served(ZHAO, PATROL, date(2026, 11, 3), 200),
            *served(SUN, CLINIC, date(2026, 11, 3), 10),
        ]
    )
    everywhere = state.volunteer_rankings(parse_period("2026"))
    assert ranks(everywhere) == [(1, "Zhao", 200), (2, "Li", 60), (2, "Wang", 60), (4, "Sun", 10)]
    in_care = state.volunteer_rankings(parse_period("2026"), team_id=CARE)
    assert ranks(in_care) == [(1, "Li", 60), (1, "Wang", 60)]
    in_dongcheng = state.volunteer_rankings(parse_period("2026"), community="Dongcheng")
    assert ranks(in_dongcheng) == [(1, "Li", 60), (1, "Wang", 60), (3, "Sun", 10)]
    last_year = state.volunteer_rankings(parse_period("2025"), team_id=CARE)
    assert ranks(last_year) == [(1, "Li", 0), (1, "Wang", 0)]


def test_member_ids_in_rows_are_the_volunteers() -> None:
    state = fold([*community(), *served(LI, CARE, date(2026, 11, 3), 60)])
    top = state.volunteer_rankings(parse_period("all"), team_id=CARE)[0]
    assert isinstance(top.member_id, UUID)
    assert (top.member_id, top.person_times, top.sessions) == (LI, 1, 1)


def test_memberships_count_from_their_effective_date() -> None:
    later = uuid4()
    state = fold(
        [
            *community(),
            make(
                Team.MemberJoined,
                originator_id=CARE,
                originator_version=4,
                timestamp=datetime(2026, 11, 20, tzinfo=UTC),
                actor_id=LI,
                member_id=later,
                role="coordinator",
                effective_date=date(2026, 12, 1),
                accepted=True,
            ),
        ]
    )
    assert state.coordinated(later, date(2026, 11, 30)) == frozenset()
    assert state.coordinated(later, date(2026, 12, 1)) == {CARE}
