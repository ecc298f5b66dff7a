"""Oversized request bodies get 413 with the error envelope, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator

from tests.api.conftest import World


def test_a_declared_oversized_body_is_refused_before_it_is_read(world: World) -> None:
    huge = {"to_member_id": str(world.wang), "minutes": 1, "note": "x" * 70_000}
    response = world.client.post("/transfers", json=huge, headers=world.headers("volunteer"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_streamed_oversized_body_is_refused_too(world: World) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"to_member_id": "' + str(world.wang).encode() + b'", "minutes": 1, "note": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = world.client.post(
        "/transfers",
        content=chunks(),
        headers={**world.headers("volunteer"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    balance = world.client.get(
        f"/members/{world.wang}/balance", headers=world.headers("admin")
    ).json()
    assert balance["received_minutes"] == 10  # only the world's own gift of 10


def test_a_body_within_the_limit_is_taken(world: World) -> None:
    note = "x" * 400
    response = world.client.post(
        "/transfers",
        json={"to_member_id": str(world.wang), "minutes": 1, "note": note},
        headers=world.headers("volunteer"),
    )
    assert response.status_code == 201, response.text
