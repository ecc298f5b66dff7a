"""A member's profile, balance and statement over HTTP: what volunteers check most."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import SINCE, TODAY, fixed_clock
from timebank import TeamRole, TimeBank

NOBODY = "3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10"


def log_and_approve(
    world: World, minutes: int, volunteer: str = "volunteer", served_on: date = TODAY
) -> str:
    """The volunteer logs service over HTTP and the day-care coordinator approves it."""
    logged = world.call(
        volunteer,
        "POST",
        "/service-logs",
        {
            "team_id": str(world.care_team),
            "service_date": served_on.isoformat(),
            "minutes": minutes,
            "activity": "home care",
        },
    )
    log_id: str = logged.json()["id"]
    approved = world.call("coordinator", "POST", f"/service-logs/{log_id}/approve")
    assert approved.status_code == 200, approved.text
    return log_id


def balance(world: World, member: object, role: str = "admin") -> dict[str, Any]:
    response = world.call(role, "GET", f"/members/{member}/balance")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def statement(world: World, member: object, query: str = "") -> dict[str, Any]:
    response = world.call("admin", "GET", f"/members/{member}/statement{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# Profiles ---------------------------------------------------------------------------


def test_a_profile_shows_the_teams_the_star_level_and_the_lifetime_minutes(world: World) -> None:
    response = world.call("volunteer", "GET", f"/members/{world.volunteer}")

    assert response.status_code == 200
    profile = response.json()
    assert (profile["name"], profile["roles"]) == ("Li", [])
    assert profile["teams"] == [
        {
            "team_id": str(world.care_team),
            "name": "Day care",
            "community": "Dongcheng",
            "role": "volunteer",
            "since": "2026-01-01",
            "accepted": True,
        },
        {
            "team_id": str(world.invitation),
            "name": "Haircut",
            "community": "Linkou",
            "role": "volunteer",
            "since": "2026-11-20",
            "accepted": False,  # an admin added her; she has not accepted yet
        },
    ]
    assert (profile["lifetime_minutes"], profile["star_level"]) == (180, 0)


def test_a_volunteer_reaches_the_first_star_at_100_hours(world: World) -> None:
    # A whole day is the most one day may credit: five long days, ending short of 100 hours.
    for days_ago in range(1, 5):
        log_and_approve(world, 1440, served_on=TODAY - timedelta(days=days_ago))
    short_of_it = world.call("volunteer", "GET", f"/members/{world.volunteer}").json()
    log_and_approve(world, 6000 - short_of_it["lifetime_minutes"], served_on=TODAY)

    profile = world.call("volunteer", "GET", f"/members/{world.volunteer}").json()

    assert (short_of_it["star_level"], profile["star_level"]) == (0, 1)
    assert profile["lifetime_minutes"] == 6000


def test_the_star_ladder_is_configurable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, star_ladder="1,2,3")
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        admin = bearer(ADMIN_TOKEN)
        member = client.post("/members", json={"name": "Li"}, headers=admin).json()
        team = client.post(
            "/teams",
            json={"name": "Day care", "community": "Dongcheng", "founded_on": "2026-01-01"},
            headers=admin,
        ).json()
        client.post(
            f"/teams/{team['id']}/members",
            json={"member_id": member["id"], "role": "volunteer", "effective_date": "2026-01-01"},
            headers=admin,
        )
        log = client.post(
            "/service-logs",
            json={
                "team_id": team["id"],
                "service_date": TODAY.isoformat(),
                "minutes": 150,
                "activity": "home care",
            },
            headers=bearer(member["token"]),
        ).json()
        client.post(f"/service-logs/{log['id']}/approve", headers=admin)

        profile = client.get(f"/members/{member['id']}", headers=admin).json()

    assert (profile["lifetime_minutes"], profile["star_level"]) == (150, 2)


def test_a_reversal_takes_the_minutes_out_of_the_lifetime(world: World) -> None:
    world.call(
        "coordinator",
        "POST",
        f"/service-logs/{world.approved_log}/reverse",
        {"reason": "logged twice"},
    )

    profile = world.call("volunteer", "GET", f"/members/{world.volunteer}").json()

    assert profile["lifetime_minutes"] == 120


def test_a_coordinator_reads_team_members_only_while_they_are_in_the_team(world: World) -> None:
    before = world.call("coordinator", "GET", f"/members/{world.wang}")
    world.call("coordinator", "DELETE", f"/teams/{world.care_team}/members/{world.wang}")

    after = world.call("coordinator", "GET", f"/members/{world.wang}")
    own_view = world.call("admin", "GET", f"/members/{world.wang}")

    assert before.status_code == 200
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "forbidden"
    assert own_view.json()["teams"] == []


@pytest.mark.parametrize("suffix", ["", "/balance", "/statement"])
def test_an_unknown_member_is_not_found_for_those_allowed_to_ask(world: World, suffix: str) -> None:
    for_the_auditor = world.call("auditor", "GET", f"/members/{NOBODY}{suffix}")
    for_a_volunteer = world.call("volunteer", "GET", f"/members/{NOBODY}{suffix}")

    assert for_the_auditor.status_code == 404
    assert for_the_auditor.json()["error"]["code"] == "not_found"
    assert for_a_volunteer.status_code == 403


# Balances ---------------------------------------------------------------------------


def test_a_balance_shows_every_kind_of_minute(world: World) -> None:
    assert balance(world, world.volunteer, role="volunteer") == {
        "member_id": str(world.volunteer),
        "pending_minutes": 45,
        "earned_minutes": 180,
        "redeemed_minutes": 0,
        "held_minutes": 30,
        "received_minutes": 0,
        "given_minutes": 10,
        "balance_minutes": 170,
        "available_minutes": 140,
        "expired_minutes": 0,
        "expiring": [],
    }


def test_a_newcomers_first_log_shows_as_pending_before_any_minutes_moved(world: World) -> None:
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    zhao = ledger.register_member(actor_id=world.admin, name="Zhao").id
    ledger.add_team_member(
        actor_id=world.admin,
        team_id=world.care_team,
        member_id=zhao,
        role=TeamRole.VOLUNTEER,
        effective_date=SINCE,
    )
    ledger.log_service(
        actor_id=world.coordinator,
        team_id=world.care_team,
        volunteer_id=zhao,
        service_date=TODAY,
        minutes=25,
        activity="home care",
    )

    shown = balance(world, zhao, role="admin")

    assert (shown["pending_minutes"], shown["earned_minutes"], shown["balance_minutes"]) == (
        25,
        0,
        0,
    )


def test_an_approval_over_http_shows_in_the_balance_at_once(world: World) -> None:
    world.call("coordinator", "POST", f"/service-logs/{world.pending_log}/approve")

    after = balance(world, world.volunteer, role="volunteer")

    assert (after["pending_minutes"], after["earned_minutes"]) == (0, 225)
    assert (after["balance_minutes"], after["available_minutes"]) == (215, 185)


def test_a_read_waits_for_the_projections_to_reach_the_write(world: World) -> None:
    runner = world.client.app.state.projections  # type: ignore[attr-defined]
    runner.stop()  # no follower: only the read's own wait can bring the views up to date

    log_and_approve(world, 30)

    assert balance(world, world.volunteer)["earned_minutes"] == 210


def test_a_new_member_has_an_empty_balance_and_statement(world: World) -> None:
    member = world.call("admin", "POST", "/members", {"name": "Zhang"}).json()

    assert balance(world, member["id"])["balance_minutes"] == 0
    assert statement(world, member["id"]) == {
        "member_id": member["id"],
        "items": [],
        "next_after": None,
    }


# Statements -------------------------------------------------------------------------


def test_a_statement_lists_every_posting_with_the_running_balance(world: World) -> None:
    log_id = log_and_approve(world, 90)
    world.call("coordinator", "POST", f"/redemptions/{world.redemption}/fulfil")

    items = statement(world, world.volunteer)["items"]

    assert [(i["kind"], i["minutes"], i["balance_minutes"]) for i in items] == [
        ("earned", 120, 120),
        ("earned", 60, 180),
        ("gave", -10, 170),
        ("earned", 90, 260),
        ("redeemed", -30, 230),
    ]
    assert (items[3]["reference_id"], items[3]["counterparty"]) == (log_id, "issuance")
    assert (items[2]["reference_id"], items[2]["counterparty"]) == (
        str(world.transfer),
        f"member:{world.wang}",
    )
    assert items[4]["counterparty"] == "redeemed"
    assert [i["position"] for i in items] == sorted({i["position"] for i in items})
    assert all(i["recorded_at"].endswith("Z") for i in items)
    assert items[-1]["balance_minutes"] == balance(world, world.volunteer)["balance_minutes"]


def test_the_receiver_of_a_gift_sees_it_in_their_statement(world: World) -> None:
    items = statement(world, world.wang)["items"]

    assert [(i["kind"], i["minutes"], i["counterparty"]) for i in items] == [
        ("received", 10, f"member:{world.volunteer}")
    ]


def test_a_statement_pages_by_position(world: World) -> None:
    whole = statement(world, world.volunteer)["items"]

    first = statement(world, world.volunteer, "?limit=2")
    second = statement(world, world.volunteer, f"?limit=2&after={first['next_after']}")

    assert first["items"] == whole[:2]
    assert first["next_after"] == whole[1]["position"]
    assert second == {"member_id": str(world.volunteer), "items": whole[2:], "next_after": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=501", "limit"), ("after=-1", "after"), ("page=2", "page")],
)
def test_a_page_out_of_bounds_or_an_unknown_parameter_is_invalid(
    world: World, query: str, field: str
) -> None:
    response = world.call("volunteer", "GET", f"/members/{world.volunteer}/statement?{query}")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [(d["field"], d["location"]) for d in error["details"]] == [(field, "query")]
