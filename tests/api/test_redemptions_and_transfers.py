"""Redemptions and transfers over HTTP: spending and giving minutes, never below zero."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import TODAY, fixed_clock

# Li earned 180 minutes, holds 30 for a haircut and gave 10 to Wang: 140 are available.
AVAILABLE = 140


def redeem(world: World, minutes: int, role: str = "volunteer", **fields: Any) -> Any:
    body = {"minutes": minutes, "service": "home care", "team_id": str(world.care_team)}
    return world.call(role, "POST", "/redemptions", body | fields)


def test_redeeming_holds_the_minutes_at_once(world: World) -> None:
    response = redeem(world, AVAILABLE)

    assert response.status_code == 201
    redemption = response.json()
    assert (redemption["status"], redemption["minutes"]) == ("held", AVAILABLE)
    assert redemption["member_id"] == str(world.volunteer)
    assert world.call("volunteer", "GET", f"/redemptions/{redemption['id']}").json() == redemption
    assert redeem(world, 1).json()["error"]["code"] == "insufficient_minutes"


def test_redeeming_more_than_is_available_is_a_conflict(world: World) -> None:
    response = redeem(world, AVAILABLE + 1)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_minutes"


def test_a_coordinator_redeems_for_a_member_at_the_counter_with_her_card_code(
    world: World,
) -> None:
    response = redeem(
        world, 15, role="coordinator", member_id=str(world.volunteer), card_code=world.card_code
    )

    assert response.status_code == 201
    body = response.json()
    assert body["requested_by"] == str(world.coordinator)
    assert (body["consent"], body["consented_by"]) == ("card", str(world.volunteer))
    fulfilled = world.call("coordinator", "POST", f"/redemptions/{body['id']}/fulfil")
    assert fulfilled.status_code == 403  # whoever asked for her does not confirm it
    assert world.call("admin", "POST", f"/redemptions/{body['id']}/fulfil").status_code == 200


def test_fulfilling_spends_the_hold_once(world: World) -> None:
    path = f"/redemptions/{world.redemption}"

    fulfilled = world.call("coordinator", "POST", f"{path}/fulfil")
    again = world.call("coordinator", "POST", f"{path}/fulfil")
    cancelled = world.call("volunteer", "POST", f"{path}/cancel")

    assert (fulfilled.status_code, fulfilled.json()["status"]) == (200, "fulfilled")
    assert [again.status_code, cancelled.status_code] == [409, 409]
    assert again.json()["error"]["code"] == "invalid_state"


def test_cancelling_gives_the_minutes_back(world: World) -> None:
    cancelled = world.call(
        "volunteer", "POST", f"/redemptions/{world.redemption}/cancel", {"reason": "feeling better"}
    )

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert cancelled.json()["reason"] == "feeling better"
    assert redeem(world, AVAILABLE + 30).status_code == 201


def test_an_unknown_redemption_is_not_found(world: World) -> None:
    response = world.call(
        "admin", "POST", "/redemptions/3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10/fulfil"
    )

    assert response.status_code == 404


def test_a_member_gives_minutes_to_a_relative(world: World) -> None:
    response = world.call(
        "volunteer",
        "POST",
        "/transfers",
        {"to_member_id": str(world.wang), "minutes": 40, "note": "for Dad"},
    )

    assert response.status_code == 201
    transfer = response.json()
    assert (transfer["from_member_id"], transfer["to_member_id"]) == (
        str(world.volunteer),
        str(world.wang),
    )
    assert (transfer["minutes"], transfer["note"]) == (40, "for Dad")
    assert world.call("auditor", "GET", f"/transfers/{transfer['id']}").json() == transfer
    assert redeem(world, AVAILABLE - 40 + 1).json()["error"]["code"] == "insufficient_minutes"


def test_giving_more_than_is_available_is_a_conflict(world: World) -> None:
    response = world.call(
        "volunteer",
        "POST",
        "/transfers",
        {"to_member_id": str(world.wang), "minutes": AVAILABLE + 1},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_minutes"


def test_giving_to_oneself_is_invalid_and_to_nobody_not_found(world: World) -> None:
    to_self = world.call(
        "volunteer", "POST", "/transfers", {"to_member_id": str(world.volunteer), "minutes": 5}
    )
    to_nobody = world.call(
        "volunteer",
        "POST",
        "/transfers",
        {"to_member_id": "3f0c1a52-8f6b-4a2e-9d7c-2b1e5a6c9d10", "minutes": 5},
    )

    assert to_self.status_code == 422
    assert to_self.json()["error"]["details"][0]["field"] == "to_member_id"
    assert to_nobody.status_code == 404


def test_a_gift_over_the_receivers_cap_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, balance_cap_minutes=100)
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        admin = bearer(ADMIN_TOKEN)
        li = client.post("/members", json={"name": "Li"}, headers=admin).json()
        wang = client.post("/members", json={"name": "Wang"}, headers=admin).json()
        team = client.post(
            "/teams",
            json={"name": "Care", "community": "Dongcheng", "founded_on": "2026-01-01"},
            headers=admin,
        )
        team_id = team.json()["id"]
        for member in (li, wang):
            body = {"member_id": member["id"], "role": "volunteer", "effective_date": "2026-01-01"}
            client.post(f"/teams/{team_id}/members", json=body, headers=admin)
        for member in (li, wang):
            log = client.post(
                "/service-logs",
                json={
                    "team_id": team_id,
                    "service_date": TODAY.isoformat(),
                    "minutes": 90,
                    "activity": "home care",
                },
                headers=bearer(member["token"]),
            ).json()
            client.post(f"/service-logs/{log['id']}/approve", headers=admin)

        response = client.post(
            "/transfers",
            json={"to_member_id": wang["id"], "minutes": 20},
            headers=bearer(li["token"]),
        )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "balance_cap_exceeded"
