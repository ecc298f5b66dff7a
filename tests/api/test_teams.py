"""Teams over HTTP: forming them, adding and removing members."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.support import TODAY


def test_an_admin_forms_a_team_that_members_can_read(world: World) -> None:
    formed = world.call("admin", "POST", "/teams", {"name": "Legal aid", "community": "Linkou"})

    assert formed.status_code == 201
    team = formed.json()
    assert {k: team[k] for k in ("name", "community", "members")} == {
        "name": "Legal aid",
        "community": "Linkou",
        "members": [],
    }
    assert world.call("volunteer", "GET", f"/teams/{team['id']}").json() == team


def test_a_coordinator_adds_a_member_who_then_appears_in_the_team(world: World) -> None:
    response = world.call(
        "coordinator",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": str(world.auditor), "role": "volunteer"},
    )

    assert response.status_code == 201
    added = {
        "member_id": str(world.auditor),
        "role": "volunteer",
        "since": TODAY.isoformat(),
        "accepted": False,
    }
    assert added in response.json()["members"]


def test_a_backdated_membership_lets_the_volunteer_log_earlier_service(world: World) -> None:
    week_ago = (TODAY - timedelta(days=7)).isoformat()
    world.call(
        "admin",
        "POST",
        f"/teams/{world.patrol_team}/members",
        {"member_id": str(world.volunteer), "role": "volunteer", "effective_date": week_ago},
    )

    logged = world.call(
        "volunteer",
        "POST",
        "/service-logs",
        {
            "team_id": str(world.patrol_team),
            "service_date": week_ago,
            "minutes": 60,
            "activity": "night patrol",
        },
    )

    assert logged.status_code == 201


def test_adding_a_member_with_the_role_they_have_is_a_conflict(world: World) -> None:
    response = world.call(
        "admin",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": str(world.volunteer), "role": "volunteer"},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"


def test_adding_an_unknown_member_or_to_an_unknown_team_is_not_found(world: World) -> None:
    nobody = "3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10"
    unknown_member = world.call(
        "admin",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": nobody, "role": "volunteer"},
    )
    unknown_team = world.call(
        "admin",
        "POST",
        f"/teams/{nobody}/members",
        {"member_id": str(world.wang), "role": "volunteer"},
    )

    assert (unknown_member.status_code, unknown_team.status_code) == (404, 404)


def test_an_unknown_team_role_is_invalid(world: World) -> None:
    response = world.call(
        "admin",
        "POST",
        f"/teams/{world.care_team}/members",
        {"member_id": str(world.wang), "role": "captain"},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "role"


def test_ending_a_membership_removes_the_member_once(world: World) -> None:
    path = f"/teams/{world.care_team}/members/{world.wang}"

    ended = world.call("coordinator", "DELETE", path)
    again = world.call("coordinator", "DELETE", path)

    assert ended.status_code == 200
    assert str(world.wang) not in {m["member_id"] for m in ended.json()["members"]}
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"


def test_a_blank_team_name_is_invalid(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/teams", json={"name": "   ", "community": "Dongcheng"}, headers=admin)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "name"
