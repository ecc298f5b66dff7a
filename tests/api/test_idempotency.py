"""Idempotency-Key: a retried POST is carried out once and answered as the first time."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.api.conftest import World
from timebank import TimeBank


def gift(world: World, key: str, minutes: int, role: str = "volunteer") -> Any:
    return world.client.post(
        "/transfers",
        json={"to_member_id": str(world.wang), "minutes": minutes},
        headers=world.headers(role) | {"Idempotency-Key": key},
    )


def available_minutes(world: World) -> int:
    """The volunteer's spendable minutes, as their account decides them."""
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    return ledger.get_account(world.volunteer).available_minutes


def test_a_repeated_gift_answers_the_same_and_moves_the_minutes_once(world: World) -> None:
    before = available_minutes(world)

    first = gift(world, "gift-1", 25)
    repeat = gift(world, "gift-1", 25)

    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()
    assert available_minutes(world) == before - 25


def test_the_same_key_with_another_body_is_a_conflict(world: World) -> None:
    gift(world, "gift-1", 25)

    response = gift(world, "gift-1", 26)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert (
        "gift-1" not in response.json()["error"]["message"]
        or "used" in response.json()["error"]["message"]
    )


def test_the_same_key_on_another_endpoint_is_a_conflict(world: World) -> None:
    gift(world, "k", 25)

    response = world.client.post(
        f"/service-logs/{world.pending_log}/approve",
        headers=world.headers("coordinator") | {"Idempotency-Key": "k"},
    )
    reused = world.client.post(
        f"/redemptions/{world.redemption}/cancel",
        headers=world.headers("volunteer") | {"Idempotency-Key": "k"},
    )

    assert response.status_code == 200  # another caller's "k" is another key
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


def test_a_repeated_review_answers_as_the_first_time_even_after_later_changes(world: World) -> None:
    path = f"/service-logs/{world.approved_log}"
    headers = world.headers("coordinator") | {"Idempotency-Key": "reverse-1"}
    first = world.client.post(f"{path}/reverse", json={"reason": "twice"}, headers=headers)

    repeat = world.client.post(f"{path}/reverse", json={"reason": "twice"}, headers=headers)
    without_key = world.call("coordinator", "POST", f"{path}/reverse", {"reason": "twice"})

    assert (first.status_code, repeat.status_code) == (200, 200)
    assert repeat.json() == first.json()
    assert without_key.status_code == 409


def test_a_repeated_create_is_201_again_with_the_same_resource(world: World) -> None:
    headers = world.headers("admin") | {"Idempotency-Key": "team-legal-aid"}
    body = {"name": "Legal aid", "community": "Linkou"}

    first = world.client.post("/teams", json=body, headers=headers)
    repeat = world.client.post("/teams", json=body, headers=headers)

    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()


def test_a_refused_request_records_nothing_and_can_be_retried_with_its_key(world: World) -> None:
    refused = gift(world, "big-gift", 500)
    for minutes in (300, 300):
        log = world.call(
            "volunteer",
            "POST",
            "/service-logs",
            {
                "team_id": str(world.care_team),
                "service_date": "2026-11-19",
                "minutes": minutes,
                "activity": "home care",
            },
        ).json()
        world.call("coordinator", "POST", f"/service-logs/{log['id']}/approve")

    retried = gift(world, "big-gift", 500)

    assert refused.status_code == 409
    assert retried.status_code == 201


def test_keys_are_per_caller(world: World) -> None:
    def log_for(role: str, volunteer: UUID) -> Any:
        return world.client.post(
            "/service-logs",
            json={
                "team_id": str(world.care_team),
                "volunteer_id": str(volunteer),
                "service_date": "2026-11-19",
                "minutes": 30,
                "activity": "home care",
            },
            headers=world.headers(role) | {"Idempotency-Key": "same"},
        )

    mine = log_for("volunteer", world.volunteer)
    theirs = log_for("coordinator", world.wang)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["volunteer_id"] == str(world.wang)


def test_an_overlong_key_is_invalid(world: World) -> None:
    response = gift(world, "k" * 201, 5)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0] == {
        "field": "Idempotency-Key",
        "location": "header",
        "message": "String should have at most 200 characters",
    }
