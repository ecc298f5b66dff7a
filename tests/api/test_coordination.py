"""A coordinator's work over HTTP: activities, reviews of many logs, care pairings, finding
people, and lists that name them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import World
from tests.support import SINCE, TODAY
from timebank.members import member_code


def ok(
    world: World, role: str, method: str, path: str, body: Any = None, *, status: int = 200
) -> Any:
    response = world.call(role, method, path, body)
    assert response.status_code == status, response.text
    return response.json()


def test_an_activity_answers_with_its_attendees_names_and_their_logs(world: World) -> None:
    world.outing()
    recorded = ok(
        world,
        "coordinator",
        "POST",
        "/activities",
        {
            "team_id": str(world.care_team),
            "service_date": TODAY.isoformat(),
            "activity": "健康义诊",
            "place": "community centre",
            "attendees": [
                {"member_id": str(world.wang), "minutes": 120},
                {"member_id": str(world.coordinator), "minutes": 120},
            ],
        },
        status=201,
    )

    assert recorded["team_name"] == "Day care"
    assert [(a["name"], a["minutes"], a["status"]) for a in recorded["attendees"]] == [
        ("Chen", 120, "pending"),  # his own attendance: another coordinator or an admin
        ("Wang", 120, "approved"),
    ]
    listed = ok(world, "coordinator", "GET", f"/activities?team_id={world.care_team}")
    assert [a["activity"] for a in listed["items"]] == ["健康义诊", "park outing"]
    assert ok(world, "other_coordinator", "GET", "/activities")["items"] == []


def test_a_whole_activity_is_refused_for_one_stranger_and_nothing_is_written(
    world: World,
) -> None:
    response = world.call(
        "coordinator",
        "POST",
        "/activities",
        {
            "team_id": str(world.care_team),
            "service_date": TODAY.isoformat(),
            "activity": "健康义诊",
            "attendees": [
                {"member_id": str(world.wang), "minutes": 120},
                {"member_id": str(world.auditor), "minutes": 120},
            ],
        },
    )

    assert response.status_code == 403
    assert "not in the team" in response.json()["error"]["message"]
    assert (
        ok(world, "coordinator", "GET", f"/members/{world.wang}/balance")["balance_minutes"] == 10
    )


def test_an_activity_of_a_day_to_come_is_refused_with_a_clear_error(world: World) -> None:
    response = world.call(
        "coordinator",
        "POST",
        "/activities",
        {
            "team_id": str(world.care_team),
            "service_date": (TODAY + timedelta(days=1)).isoformat(),
            "activity": "健康义诊",
            "attendees": [{"member_id": str(world.wang), "minutes": 60}],
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "service_date" in str(error["details"])


def test_a_review_answers_each_logs_outcome_and_a_repeat_the_same(world: World) -> None:
    body = {
        "decisions": [
            {
                "service_log_id": str(world.pending_log),
                "action": "approve",
                "minutes": 30,
                "reason": "the visit was cut short",
            },
            {"service_log_id": str(world.approved_log), "action": "reject", "reason": "x"},
        ]
    }
    headers = {**world.headers("coordinator"), "Idempotency-Key": "saturday"}

    first = world.client.post("/service-logs/review", json=body, headers=headers)
    again = world.client.post("/service-logs/review", json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert [(o["outcome"], o["code"]) for o in first.json()["items"]] == [
        ("approved", None),
        ("refused", "invalid_state"),
    ]
    log = ok(world, "volunteer", "GET", f"/service-logs/{world.pending_log}")
    assert (log["approved_minutes"], log["reason"]) == (30, "the visit was cut short")


def test_service_logs_and_statements_name_people_and_teams(world: World) -> None:
    world.outing()
    pending = ok(world, "coordinator", "GET", "/service-logs?status=pending")
    assert {(log["volunteer_name"], log["team_name"]) for log in pending["items"]} == {
        ("Li", "Day care")
    }

    lines = ok(world, "volunteer", "GET", f"/members/{world.volunteer}/statement")["items"]
    earned = [line for line in lines if line["kind"] == "earned"]
    assert {(line["activity"], line["team_name"]) for line in earned} == {
        ("home care", "Day care"),
        ("park outing", "Day care"),
    }
    assert all(line["service_date"] == TODAY.isoformat() for line in earned)
    [gift] = [line for line in lines if line["kind"] == "gave"]
    assert gift["counterparty_name"] == "Wang"


def test_me_is_the_profile_and_the_minutes_in_one_call(world: World) -> None:
    me = ok(world, "volunteer", "GET", "/me")

    assert me["profile"]["name"] == "Li"
    assert me["profile"]["code"] == member_code(world.volunteer)
    assert {t["name"] for t in me["profile"]["teams"]} >= {"Day care"}
    assert (
        me["balance"]["balance_minutes"]
        == ok(world, "volunteer", "GET", f"/members/{world.volunteer}/balance")["balance_minutes"]
    )


def test_a_daughter_finds_her_father_by_the_code_on_his_card(world: World) -> None:
    code = member_code(world.wang)
    typed = code.lower().replace("-", " ")

    found = ok(world, "volunteer", "GET", f"/members/lookup?code={typed}")

    assert found == {"id": str(world.wang), "name": "Wang", "code": code}
    unknown = world.call("volunteer", "GET", "/members/lookup?code=0000-0000")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_coordinators_search_their_teams_members_by_name(world: World) -> None:
    found = ok(world, "coordinator", "GET", f"/teams/{world.care_team}/members?name=WA")
    assert [m["name"] for m in found["items"]] == ["Wang"]
    everyone = ok(world, "coordinator", "GET", f"/teams/{world.care_team}/members")
    assert [m["name"] for m in everyone["items"]] == ["Chen", "Li", "Wang"]


def test_the_care_gap_list_names_the_elders_nobody_visited(world: World) -> None:
    paired = ok(world, "coordinator", "GET", f"/pairings/{world.pairing}")
    assert (paired["beneficiary_name"], paired["volunteer_name"]) == ("Wang", "Li")
    assert [p["id"] for p in ok(world, "coordinator", "GET", "/pairings/care-gaps")["items"]] == [
        str(world.pairing)
    ]

    ok(
        world,
        "volunteer",
        "POST",
        "/service-logs",
        {
            "team_id": str(world.care_team),
            "service_date": (TODAY - timedelta(days=2)).isoformat(),
            "minutes": 60,
            "activity": "探访",
            "pairing_id": str(world.pairing),
        },
        status=201,
    )

    assert ok(world, "coordinator", "GET", "/pairings/care-gaps?days=7")["items"] == []
    [waiting] = ok(world, "coordinator", "GET", "/pairings/care-gaps?days=1")["items"]
    assert waiting["last_visit"] == (TODAY - timedelta(days=2)).isoformat()
    assert ok(world, "other_coordinator", "GET", "/pairings/care-gaps")["items"] == []


def test_an_ended_pairing_leaves_the_active_list(world: World) -> None:
    ended = ok(
        world,
        "coordinator",
        "POST",
        f"/pairings/{world.pairing}/end",
        {"reason": "moved in with her son", "effective_date": SINCE.isoformat()},
    )
    assert ended["until"] == SINCE.isoformat()
    assert ok(world, "coordinator", "GET", "/pairings")["items"] == []
    assert len(ok(world, "coordinator", "GET", "/pairings?active=false")["items"]) == 1
