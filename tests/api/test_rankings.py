"""Rankings over HTTP: teams and volunteers by approved minutes, for a period."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World
from tests.support import TODAY


def ranked(world: World, path: str, role: str = "volunteer") -> dict[str, Any]:
    response = world.call(role, "GET", path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_teams_are_ranked_by_the_minutes_approved_over_http(world: World) -> None:
    logged = world.call(
        "other_coordinator",
        "POST",
        "/service-logs",
        {
            "team_id": str(world.patrol_team),
            "volunteer_id": str(world.other_coordinator),
            "service_date": TODAY.isoformat(),
            "minutes": 240,
            "activity": "night patrol",
        },
    ).json()
    world.call("admin", "POST", f"/service-logs/{logged['id']}/approve")

    rankings = ranked(world, "/rankings/teams")

    assert rankings == {
        "period": "all",
        "items": [
            {
                "rank": 1,
                "team_id": str(world.patrol_team),
                "name": "Night patrol",
                "community": "Xinghuo",
                "minutes": 240,
                "volunteers": 1,
                "person_times": 1,
                "sessions": 1,
            },
            {
                "rank": 2,
                "team_id": str(world.care_team),
                "name": "Day care",
                "community": "Dongcheng",
                "minutes": 180,
                "volunteers": 1,
                "person_times": 2,
                "sessions": 1,
            },
            {
                "rank": 3,
                "team_id": str(world.invitation),
                "name": "Haircut",
                "community": "Linkou",
                "minutes": 0,
                "volunteers": 0,
                "person_times": 0,
                "sessions": 0,
            },
        ],
        "next_after": None,
    }


def test_volunteers_of_a_team_are_ranked_and_ties_share_a_rank(world: World) -> None:
    rankings = ranked(world, f"/rankings/volunteers?team_id={world.care_team}&period=2026-11")

    tied = [name for _, name in sorted([(world.coordinator, "Chen"), (world.wang, "Wang")])]
    assert rankings["period"] == "2026-11"
    assert [(r["rank"], r["name"], r["minutes"]) for r in rankings["items"]] == [
        (1, "Li", 180),
        (2, tied[0], 0),  # ties are listed by member id
        (2, tied[1], 0),
    ]


def test_a_period_without_service_ranks_everyone_at_zero(world: World) -> None:
    rankings = ranked(world, "/rankings/teams?period=2025-W10&community=Dongcheng")

    assert [(r["rank"], r["name"], r["minutes"]) for r in rankings["items"]] == [(1, "Day care", 0)]


def test_rankings_come_a_page_at_a_time(world: World) -> None:
    path = f"/rankings/volunteers?team_id={world.care_team}&limit=2"
    first = ranked(world, path)
    second = ranked(world, f"{path}&after={first['next_after']}")

    tied = [name for _, name in sorted([(world.coordinator, "Chen"), (world.wang, "Wang")])]
    assert [r["name"] for r in first["items"]] == ["Li", tied[0]]
    assert [(r["rank"], r["name"]) for r in second["items"]] == [(2, tied[1])]
    assert second["next_after"] is None


@pytest.mark.parametrize("period", ["2026-13", "2026-W54", "0000", "last-week", ""])
def test_a_bad_period_is_invalid(world: World, period: str) -> None:
    response = world.call("volunteer", "GET", f"/rankings/teams?period={period}")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [(d["field"], d["location"]) for d in error["details"]] == [("period", "query")]


def test_an_unknown_team_is_not_found(world: World) -> None:
    response = world.call("volunteer", "GET", f"/rankings/volunteers?team_id={world.volunteer}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
