"""Listing teams and service logs over HTTP: each caller sees their part, a page at a time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World
from tests.support import TODAY


def listed(world: World, role: str, path: str) -> dict[str, Any]:
    response = world.call(role, "GET", path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def log_for(world: World, role: str, volunteer: object, team: object) -> str:
    response = world.call(
        role,
        "POST",
        "/service-logs",
        {
            "team_id": str(team),
            "volunteer_id": str(volunteer),
            "service_date": TODAY.isoformat(),
            "minutes": 60,
            "activity": "night patrol",
        },
    )
    assert response.status_code == 201, response.text
    log_id: str = response.json()["id"]
    return log_id


# Teams ------------------------------------------------------------------------------


def test_teams_are_listed_by_name_as_each_reads_alone(world: World) -> None:
    page = listed(world, "volunteer", "/teams")

    assert [t["name"] for t in page["items"]] == ["Day care", "Haircut", "Night patrol"]
    assert page["next_after"] is None
    for team in page["items"]:
        assert world.call("volunteer", "GET", f"/teams/{team['id']}").json() == team


def test_a_new_team_is_listed_at_once_and_a_community_keeps_its_own(world: World) -> None:
    world.call("admin", "POST", "/teams", {"name": "Legal aid", "community": "Dongcheng"})

    page = listed(world, "volunteer", "/teams?community=Dongcheng")

    assert [t["name"] for t in page["items"]] == ["Day care", "Legal aid"]


def test_teams_come_a_page_at_a_time(world: World) -> None:
    first = listed(world, "volunteer", "/teams?limit=1")
    second = listed(world, "volunteer", f"/teams?limit=1&after={first['next_after']}")

    assert [t["name"] for t in first["items"]] == ["Day care"]
    assert first["next_after"] == str(world.care_team)
    assert [t["name"] for t in second["items"]] == ["Haircut"]
    assert second["next_after"] == str(world.invitation)


def test_an_after_that_names_no_team_is_invalid(world: World) -> None:
    response = world.call("volunteer", "GET", f"/teams?after={world.volunteer}")

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {
            "field": "after",
            "location": "query",
            "message": "names no item of this list; start again without it",
        }
    ]


# Service logs -----------------------------------------------------------------------


def test_a_volunteer_lists_their_own_logs_as_each_reads_alone(world: World) -> None:
    page = listed(world, "volunteer", "/service-logs")

    assert len(page["items"]) == 3
    assert page["items"][-1]["id"] == str(world.pending_log)
    for log in page["items"]:
        assert world.call("volunteer", "GET", f"/service-logs/{log['id']}").json() == log


def test_each_caller_sees_only_the_logs_they_may(world: World) -> None:
    wangs = log_for(world, "coordinator", world.wang, world.care_team)
    suns_own = log_for(world, "other_coordinator", world.other_coordinator, world.patrol_team)

    seen = {
        role: set(ids(listed(world, role, "/service-logs")))
        for role in ("volunteer", "coordinator", "other_coordinator", "auditor", "admin")
    }

    lis = seen["volunteer"]
    assert len(lis) == 3
    assert wangs not in lis
    assert seen["coordinator"] == {*lis, wangs}  # day care's, including the one they logged
    assert seen["other_coordinator"] == {suns_own}
    assert seen["auditor"] == seen["admin"] == {*lis, wangs, suns_own}


def test_a_member_sees_a_log_someone_else_logged_for_them(world: World) -> None:
    wangs = log_for(world, "coordinator", world.wang, world.care_team)
    token = world.call("admin", "POST", f"/members/{world.wang}/tokens").json()["token"]

    response = world.client.get("/service-logs", headers={"Authorization": f"Bearer {token}"})

    # Wang also acts for Li (家属代办), so her logs are his to see as well.
    lis = ids(listed(world, "volunteer", "/service-logs"))
    assert ids(response.json()) == [*lis, wangs]


def test_logs_are_filtered_by_status_team_and_volunteer(world: World) -> None:
    wangs = log_for(world, "coordinator", world.wang, world.care_team)

    pending = listed(world, "admin", "/service-logs?status=pending")
    of_wang = listed(world, "admin", f"/service-logs?volunteer_id={world.wang}")
    of_patrol = listed(world, "admin", f"/service-logs?team_id={world.patrol_team}")
    approved_in_care = listed(
        world, "coordinator", f"/service-logs?status=approved&team_id={world.care_team}"
    )

    assert ids(pending) == [str(world.pending_log), wangs]
    assert ids(of_wang) == [wangs]
    assert ids(of_patrol) == []
    assert len(approved_in_care["items"]) == 2
    assert {log["status"] for log in approved_in_care["items"]} == {"approved"}


def test_a_review_queue_pages_on_while_the_coordinator_works_through_it(world: World) -> None:
    queue = [log_for(world, "coordinator", world.wang, world.care_team) for _ in range(3)]
    first = listed(world, "coordinator", "/service-logs?status=pending&limit=2")
    for log in first["items"]:
        world.call("coordinator", "POST", f"/service-logs/{log['id']}/approve")

    rest = listed(
        world, "coordinator", f"/service-logs?status=pending&limit=2&after={first['next_after']}"
    )

    assert ids(first) == [str(world.pending_log), queue[0]]
    assert ids(rest) == queue[1:]
    assert rest["next_after"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("team_id=day-care", "team_id"),
        ("limit=501", "limit"),
        ("volunter_id=x", "volunter_id"),
    ],
)
def test_a_bad_filter_is_invalid(world: World, query: str, field: str) -> None:
    response = world.call("admin", "GET", f"/service-logs?{query}")

    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
