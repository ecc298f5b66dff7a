"""The query module on every store (memory, SQLite, PostgreSQL), the same cases on each:
who may read what, and rankings over periods, late approvals, reversals and communities."""

from __future__ import annotations

from datetime import date

import pytest

from projections.periods import parse_period
from projections.queries import CursorError
from projections.visibility import ANONYMOUS, Viewer
from tests.support import SINCE, TODAY, Community, views_of
from timebank.errors import NotFoundError, PermissionDeniedError


def viewer(member: object) -> Viewer:
    return Viewer(member, sees_everything=False)  # type: ignore[arg-type]


def log(community: Community, volunteer: object, day: date, minutes: int, activity: str) -> object:
    team = community.patrol_team if volunteer == community.zhao else community.care_team
    return community.app.log_service(
        actor_id=volunteer,  # type: ignore[arg-type]
        team_id=team,
        service_date=day,
        minutes=minutes,
        activity=activity,
    ).id


def approve(community: Community, log_id: object, volunteer: object) -> None:
    coordinator = (
        community.patrol_coordinator if volunteer == community.zhao else community.care_coordinator
    )
    community.app.approve_service(actor_id=coordinator, service_log_id=log_id)  # type: ignore[arg-type]


def test_each_reader_reads_what_the_rule_lets_them(community: Community) -> None:
    c = community
    c.earn(c.li, 60)
    with views_of(c.app) as views:
        reader = views.reader
        assert reader.balance(viewer(c.li), c.li).earned_minutes == 60
        assert reader.balance(viewer(c.care_coordinator), c.li).earned_minutes == 60
        assert reader.balance(views.everyone, c.li).earned_minutes == 60
        for outsider in (c.wang, c.patrol_coordinator, c.grandma):
            with pytest.raises(PermissionDeniedError):
                reader.balance(viewer(outsider), c.li)
        with pytest.raises(PermissionDeniedError):  # refusal before existence
            reader.profile(viewer(c.wang), c.admin)
        with pytest.raises(NotFoundError):
            reader.profile(views.everyone, c.care_team)
        c.app.register_agent(actor_id=c.li, member_id=c.li, agent_id=c.wang)
        agent = views.caught_up().statement(viewer(c.wang), c.li, after=0, limit=10)
        assert [line.minutes for line in agent.items] == [60]
        logs = reader.service_logs(viewer(c.patrol_coordinator)).items
        assert logs == []
        assert len(reader.service_logs(viewer(c.care_coordinator)).items) == 1


def test_a_statement_says_what_each_line_was_about(community: Community) -> None:
    """A service line names its day, activity and team; a gift names whom it went to;
    a page ends where the next begins."""
    c = community
    c.earn(c.li, 90)
    approve(c, log(c, c.li, TODAY, 30, "reading aloud"), c.li)
    c.app.transfer(actor_id=c.li, to_member_id=c.wang, minutes=20)
    with views_of(c.app) as views:
        first = views.reader.statement(viewer(c.li), c.li, after=0, limit=2)
        rest = views.reader.statement(viewer(c.li), c.li, after=first.next_after or 0, limit=2)
    lines = [*first.items, *rest.items]
    assert [(x.kind, x.minutes, x.balance_minutes) for x in lines] == [
        ("earned", 90, 90),
        ("earned", 30, 120),
        ("gave", -20, 100),
    ]
    assert [(x.service_date, x.activity, x.team_name) for x in lines] == [
        (TODAY, "home care", "Day care"),
        (TODAY, "reading aloud", "Day care"),
        (None, None, None),
    ]
    assert [x.counterparty_name for x in lines] == [None, None, "Wang"]
    assert rest.next_after is None


def test_a_coordinators_pending_list_pages_in_recorded_order_each_log_once(
    community: Community,
) -> None:
    c = community
    mine = log(c, c.li, TODAY, 30, "home care")
    for_li = c.app.log_service(  # logged by the coordinator, of the team they coordinate
        actor_id=c.care_coordinator,
        team_id=c.care_team,
        volunteer_id=c.li,
        service_date=TODAY,
        minutes=45,
        activity="home care",
    ).id
    wangs = log(c, c.wang, TODAY, 20, "home care")
    approve(c, log(c, c.wang, TODAY, 10, "home care"), c.wang)
    log(c, c.zhao, TODAY, 60, "patrol")  # another team's
    with views_of(c.app) as views:
        reader = views.reader
        paged: list[object] = []
        after = None
        while True:
            page = reader.service_logs(
                viewer(c.care_coordinator), status="pending", after=after, limit=1
            )
            paged.extend(log.id for log in page.items)
            if page.next_after is None:
                break
            after = page.next_after
        assert paged == [mine, for_li, wangs]
        assert [x.id for x in reader.service_logs(viewer(c.li), status="pending").items] == [
            mine,
            for_li,
        ]
        everything = reader.service_logs(viewer(c.care_coordinator)).items
        assert [x.status for x in everything] == ["pending", "pending", "pending", "approved"]


def test_a_coordinator_acting_for_a_member_lists_both_kinds_of_logs_with_their_names(
    community: Community,
) -> None:
    c = community
    c.app.register_agent(actor_id=c.zhao, member_id=c.zhao, agent_id=c.care_coordinator)
    lis = log(c, c.li, TODAY, 30, "home care")
    zhaos = log(c, c.zhao, TODAY, 60, "patrol")
    approve(c, log(c, c.wang, TODAY, 10, "home care"), c.wang)
    with views_of(c.app) as views:
        reader = views.reader
        pending = reader.service_logs(viewer(c.care_coordinator), status="pending").items
        assert [(x.id, x.volunteer_name, x.team_name) for x in pending] == [
            (lis, "Li", "Day care"),
            (zhaos, "Zhao", "Night patrol"),
        ]
        theirs = reader.service_logs(viewer(c.patrol_coordinator), status="pending").items
        assert [x.id for x in theirs] == [zhaos]


def test_rankings_by_period_with_ties_late_approvals_and_reversals(community: Community) -> None:
    c = community
    march, november = date(2026, 3, 10), TODAY
    early = log(c, c.li, march, 120, "home care")
    approve(c, log(c, c.li, november, 60, "home care"), c.li)
    approve(c, log(c, c.wang, november, 60, "home care"), c.wang)
    approve(c, log(c, c.zhao, november, 200, "patrol"), c.zhao)
    with views_of(c.app) as views:
        reader, everyone = views.reader, views.everyone
        month = reader.team_rankings(everyone, parse_period("2026-11")).items
        assert [(r.rank, r.name, r.minutes, r.volunteers, r.sessions) for r in month] == [
            (1, "Night patrol", 200, 1, 1),
            (2, "Day care", 120, 2, 1),
        ]
        ties = reader.volunteer_rankings(everyone, parse_period("2026-11"), team_id=c.care_team)
        tied = sorted([(c.li, "Li"), (c.wang, "Wang")])  # ties are listed by member id
        assert [(r.rank, r.name, r.minutes) for r in ties.items] == [
            (1, tied[0][1], 60),
            (1, tied[1][1], 60),
            (3, "Chen", 0),
        ]
        approve(c, early, c.li)  # approved in November, served in March
        reader = views.caught_up()
        assert reader.team_rankings(everyone, parse_period("2026-03")).items[0].minutes == 120
        c.app.reverse_service(actor_id=c.care_coordinator, service_log_id=early, reason="twice")  # type: ignore[arg-type]
        reader = views.caught_up()
        care = {r.name: r for r in reader.team_rankings(everyone, parse_period("2026")).items}
        assert (care["Day care"].minutes, care["Day care"].person_times) == (120, 2)
        dongcheng = reader.team_rankings(everyone, parse_period("all"), community="Dongcheng")
        assert [r.name for r in dongcheng.items] == ["Day care"]
        week = reader.team_rankings(everyone, parse_period("2026-W47")).items
        assert {r.name: r.minutes for r in week}["Night patrol"] == 200
        assert SINCE.year == 2026


def test_volunteer_rankings_page_in_rank_order_without_naming_hidden_members(
    community: Community,
) -> None:
    c = community
    c.earn(c.zhao, 90, team=c.patrol_team)
    c.earn(c.li, 30)
    c.earn(c.wang, 30)
    c.app.choose_publicity(actor_id=c.wang, member_id=c.wang, anonymous=True)
    everywhere = parse_period("all")
    with views_of(c.app) as views:
        reader = views.reader
        for who in (views.everyone, viewer(c.li), viewer(c.patrol_coordinator)):
            whole = reader.volunteer_rankings(who, everywhere).items
            paged, after = [], None
            while True:
                page = reader.volunteer_rankings(who, everywhere, after=after, limit=1)
                paged.extend(page.items)
                if page.next_after is None:
                    break
                assert page.next_after == page.items[0].member_id or (
                    page.items[0].member_id is None
                    and page.next_after not in {c.zhao, c.wang, c.patrol_coordinator}
                )
                after = page.next_after
            assert paged == whole
        as_li = reader.volunteer_rankings(viewer(c.li), everywhere).items
        # Zero minutes rank last, tied; the members of other teams count with them.
        assert [(r.rank, r.minutes) for r in as_li] == [(1, 90), (2, 30), (2, 30), (4, 0), (4, 0)]
        assert [r.name for r in as_li[:1]] == [ANONYMOUS]  # Zhao serves elsewhere
        assert {r.name for r in as_li[1:3]} == {"Li", ANONYMOUS}  # Wang chose anonymity
        with pytest.raises(CursorError):  # a hidden member's id tells nothing of where
            reader.volunteer_rankings(viewer(c.li), everywhere, after=c.zhao, limit=1)
        with pytest.raises(CursorError):
            reader.volunteer_rankings(viewer(c.li), everywhere, after=c.grandma, limit=1)
        # Another reader's cursor for a hidden row is not this reader's.
        first = reader.volunteer_rankings(viewer(c.li), everywhere, limit=1)
        assert first.items[0].member_id is None
        with pytest.raises(CursorError):
            reader.volunteer_rankings(viewer(c.wang), everywhere, after=first.next_after)


def test_rankings_name_members_only_to_their_own_communities(community: Community) -> None:
    c = community
    approve(c, log(c, c.zhao, TODAY, 30, "patrol"), c.zhao)
    approve(c, log(c, c.wang, TODAY, 30, "home care"), c.wang)
    c.app.choose_publicity(actor_id=c.wang, member_id=c.wang, anonymous=True)
    with views_of(c.app) as views:
        seen_by_li = views.reader.volunteer_rankings(viewer(c.li), parse_period("all")).items
        names = {row.name for row in seen_by_li}
        assert "Zhao" not in names
        assert "Wang" not in names
        assert {"Li", ANONYMOUS} <= names
        seen_by_chen = views.reader.volunteer_rankings(
            viewer(c.care_coordinator), parse_period("all")
        ).items
        assert "Wang" in {row.name for row in seen_by_chen}
