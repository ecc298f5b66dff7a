"""Service logs over HTTP: logging service and its review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import World
from tests.support import TODAY


def log_body(world: World, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "team_id": str(world.care_team),
        "service_date": TODAY.isoformat(),
        "minutes": 90,
        "activity": "home care",
    }
    body.update(fields)
    return body


def test_a_volunteer_logs_service_that_waits_for_review(world: World) -> None:
    response = world.call(
        "volunteer",
        "POST",
        "/service-logs",
        log_body(world, beneficiary="Grandma Liu", note="  bathed and fed  "),
    )

    assert response.status_code == 201
    log = response.json()
    assert {k: log[k] for k in ("volunteer_id", "team_id", "logged_by")} == {
        "volunteer_id": str(world.volunteer),
        "team_id": str(world.care_team),
        "logged_by": str(world.volunteer),
    }
    assert (log["status"], log["minutes"], log["approved_minutes"]) == ("pending", 90, None)
    assert (log["service_date"], log["note"]) == (TODAY.isoformat(), "bathed and fed")
    assert log["recorded_at"].endswith("Z")
    assert world.call("volunteer", "GET", f"/service-logs/{log['id']}").json() == log


def test_a_coordinator_logs_for_a_volunteer_and_is_named_as_the_logger(world: World) -> None:
    response = world.call(
        "coordinator", "POST", "/service-logs", log_body(world, volunteer_id=str(world.wang))
    )

    assert response.status_code == 201
    assert response.json()["volunteer_id"] == str(world.wang)
    assert response.json()["logged_by"] == str(world.coordinator)


def test_service_on_a_future_day_is_invalid(world: World) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()

    response = world.call(
        "volunteer", "POST", "/service-logs", log_body(world, service_date=tomorrow)
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == [
        {
            "field": "service_date",
            "location": "body",
            "message": "service cannot be logged in advance",
        }
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 1441}, "minutes"),
        ({"minutes": "90"}, "minutes"),
        ({"minutes": 90.5}, "minutes"),
        ({"minutes": True}, "minutes"),
        ({"service_date": "20/11/2026"}, "service_date"),
        ({"service_date": 1763596800}, "service_date"),
        ({"team_id": "day-care"}, "team_id"),
        ({"activity": "   "}, "activity"),
        ({"activity": "a" * 101}, "activity"),
        ({"note": "n" * 501}, "note"),
        ({"hours": 2}, "hours"),
    ],
)
def test_bad_fields_are_named_in_a_422(world: World, fields: dict[str, Any], field: str) -> None:
    response = world.call("volunteer", "POST", "/service-logs", log_body(world, **fields))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in {d["field"] for d in error["details"]}


def test_logging_in_a_team_one_is_not_in_is_forbidden(world: World) -> None:
    response = world.call(
        "volunteer", "POST", "/service-logs", log_body(world, team_id=str(world.patrol_team))
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_logging_in_an_unknown_team_is_not_found(world: World) -> None:
    response = world.call(
        "volunteer",
        "POST",
        "/service-logs",
        log_body(world, team_id="3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10"),
    )

    assert response.status_code == 404


def test_approving_part_of_the_minutes_credits_only_those(world: World) -> None:
    response = world.call(
        "coordinator", "POST", f"/service-logs/{world.pending_log}/approve", {"minutes": 30}
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approved_minutes"]) == ("approved", 30)


def test_approving_without_a_body_credits_all_the_minutes(world: World) -> None:
    response = world.call("coordinator", "POST", f"/service-logs/{world.pending_log}/approve")

    assert response.json()["approved_minutes"] == 45


def test_approving_more_than_was_logged_is_invalid(world: World) -> None:
    response = world.call(
        "coordinator", "POST", f"/service-logs/{world.pending_log}/approve", {"minutes": 46}
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "minutes"


@pytest.mark.parametrize(
    ("first", "then"),
    [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject")],
)
def test_a_log_is_resolved_once(world: World, first: str, then: str) -> None:
    path = f"/service-logs/{world.pending_log}"
    world.call(
        "coordinator", "POST", f"{path}/{first}", {"reason": "no"} if first == "reject" else None
    )

    again = world.call(
        "coordinator", "POST", f"{path}/{then}", {"reason": "no"} if then == "reject" else None
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state"


def test_rejecting_keeps_the_reason(world: World) -> None:
    response = world.call(
        "coordinator",
        "POST",
        f"/service-logs/{world.pending_log}/reject",
        {"reason": "not on the rota"},
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("rejected", "not on the rota")


def test_a_reason_is_required_to_reject(world: World) -> None:
    response = world.call("coordinator", "POST", f"/service-logs/{world.pending_log}/reject", {})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "reason"


def test_reversing_an_approval_takes_the_minutes_back(world: World) -> None:
    response = world.call(
        "coordinator",
        "POST",
        f"/service-logs/{world.approved_log}/reverse",
        {"reason": "logged twice"},
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("reversed", "logged twice")


def test_only_an_approved_log_is_reversed(world: World) -> None:
    response = world.call(
        "coordinator", "POST", f"/service-logs/{world.pending_log}/reverse", {"reason": "oops"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"


def test_a_reversal_of_minutes_already_spent_is_refused(world: World) -> None:
    # Li earned 180, holds 30 and gave 10: spend all but 20 of what remains.
    world.call(
        "volunteer",
        "POST",
        "/redemptions",
        {"minutes": 120, "service": "home care", "team_id": str(world.care_team)},
    )

    response = world.call(
        "coordinator",
        "POST",
        f"/service-logs/{world.approved_log}/reverse",
        {"reason": "logged twice"},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_minutes"


def test_an_unknown_log_is_not_found(world: World) -> None:
    response = world.call(
        "admin", "POST", "/service-logs/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10/approve"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
