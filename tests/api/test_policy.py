"""The community's rules over HTTP: read by every member, adopted by an admin with a reason,
tried first with "what if", and the seed settings set aside once a ledger has its rules."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import TODAY, fixed_clock


def policy(world: World, role: str = "volunteer") -> dict[str, Any]:
    response = world.call(role, "GET", "/policy")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_admin_adopts_a_cap_that_every_member_reads_and_the_next_approval_obeys(
    world: World,
) -> None:
    before = policy(world)

    adopted = world.call(
        "admin",
        "POST",
        "/policy",
        {"rules": {"balance_cap_minutes": 200}, "reason": "the fund guarantees 200 minutes"},
    )
    after = policy(world)
    approval = world.call("coordinator", "POST", f"/service-logs/{world.pending_log}/approve")

    assert before["in_force"]["version"] == 1
    assert before["in_force"]["rules"]["balance_cap_minutes"] is None
    assert adopted.status_code == 201, adopted.text
    assert adopted.json()["version"] == 2
    assert [v["version"] for v in after["versions"]] == [1, 2]
    assert after["in_force"]["rules"]["balance_cap_minutes"] == 200
    assert after["in_force"]["reason"] == "the fund guarantees 200 minutes"
    # Li holds 170 minutes: 45 more would take her past 200.
    assert approval.status_code == 409
    assert approval.json()["error"]["code"] == "balance_cap_exceeded"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "rules": {"balance_cap_minutes": 600},
                "effective_on": (TODAY - timedelta(days=1)).isoformat(),
                "reason": "backdated",
            },
            "effective_on",
        ),
        (
            {"rules": {"star_ladder_hours": [100, 50]}, "reason": "a ladder that falls"},
            "star_ladder_hours",
        ),
        ({"rules": {"daily_limit_minutes": 2000}, "reason": "more than a day"}, "daily_limit"),
        ({"rules": {"balance_cap_minutes": 600}, "reason": ""}, "reason"),
        ({"rules": {"star_ladder_hours": None}, "reason": "no ladder"}, "star_ladder_hours"),
        ({"rules": {"daily_limit_minutes": None}, "reason": "no limit"}, "daily_limit_minutes"),
    ],
)
def test_a_version_that_cannot_hold_is_refused_saying_why_and_nothing_is_adopted(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = world.call("admin", "POST", "/policy", body)

    assert response.status_code in (409, 422), response.text
    assert field in response.text
    assert [v["version"] for v in policy(world)["versions"]] == [1]


def test_what_if_tells_who_would_be_over_a_cap_and_writes_nothing(world: World) -> None:
    events_before = world.call("auditor", "GET", "/audit/events?limit=500").json()["items"]

    answer = world.call("auditor", "POST", "/policy/what-if", {"balance_cap_minutes": 100})

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["proposed"]["balance_cap_minutes"] == 100
    # Li's 120 and 60 minute credits: the second would have taken her past 100.
    assert report["refused"].get("over_cap", 0) >= 1
    assert {r["name"] for r in report["refusals"]} == {"Li"}
    events_after = world.call("auditor", "GET", "/audit/events?limit=500").json()["items"]
    assert len(events_after) == len(events_before)
    assert [v["version"] for v in policy(world)["versions"]] == [1]


def test_seed_settings_changed_later_change_nothing_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    admin = bearer(ADMIN_TOKEN)
    first = make_settings(tmp_path, balance_cap_minutes=600)
    with TestClient(create_app(first, clock=fixed_clock)) as client:
        client.post("/members", json={"name": "Li"}, headers=admin)  # stores the rules

    caplog.set_level(logging.WARNING)
    later = make_settings(tmp_path, balance_cap_minutes=900)
    with TestClient(create_app(later, clock=fixed_clock)) as client:
        in_force = client.get("/policy", headers=admin).json()["in_force"]

    assert in_force["rules"]["balance_cap_minutes"] == 600
    assert any("only seed a new ledger" in r.getMessage() for r in caplog.records)
