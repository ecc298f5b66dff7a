"""GET /audit/checkpoints/latest: the checkpoint the ledger signed last, for auditors to keep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from projections.checkpoints import (
    Checkpoint,
    IntervalSigner,
    load_private_key,
    new_key_pair,
    sign_checkpoint,
)
from projections.runner import ProjectionRunner
from tests.api.conftest import ADMIN_TOKEN, World, bearer, make_settings
from tests.support import fixed_clock, wait_until
from timebank import TimeBank


def test_auditors_read_the_latest_signed_checkpoint_and_can_check_it(world: World) -> None:
    assert world.call("auditor", "GET", "/audit/checkpoints/latest").status_code == 404
    ledger: TimeBank = world.client.app.state.ledger  # type: ignore[attr-defined]
    runner: ProjectionRunner = world.client.app.state.projections  # type: ignore[attr-defined]
    private, public = new_key_pair()
    runner.catch_up()
    signed = sign_checkpoint(ledger, runner.store, load_private_key(private))
    response = world.call("auditor", "GET", "/audit/checkpoints/latest")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == signed.as_json()
    kept = Checkpoint.of(body)
    assert kept.signature_ok()
    assert kept.public_key == public
    assert world.call("volunteer", "GET", "/audit/checkpoints/latest").status_code == 403


def test_a_server_with_a_checkpoint_key_signs_at_an_interval_while_the_ledger_moves(
    tmp_path: Path,
) -> None:
    private, public = new_key_pair()
    settings = make_settings(tmp_path, checkpoint_key=private, checkpoint_interval=1)
    with TestClient(create_app(settings, clock=fixed_clock)) as client:
        admin = bearer(ADMIN_TOKEN)

        def latest() -> dict[str, Any] | None:
            response = client.get("/audit/checkpoints/latest", headers=admin)
            return response.json() if response.status_code == 200 else None

        client.post("/members", json={"name": "Li"}, headers=admin)
        wait_until(lambda: latest() is not None, timeout=30, what="a first checkpoint")
        first = Checkpoint.of(latest())
        client.post("/members", json={"name": "Wang"}, headers=admin)
        wait_until(
            lambda: (latest() or {}).get("position", 0) > first.position,
            timeout=30,
            what="a checkpoint past the second registration",
        )
        second = Checkpoint.of(latest())

    assert first.public_key == second.public_key == public
    assert first.signature_ok()
    assert second.signature_ok()
    assert second.count > first.count


def test_the_interval_signer_signs_only_when_the_ledger_moved(world: World) -> None:
    runner: ProjectionRunner = world.client.app.state.projections  # type: ignore[attr-defined]
    private, _ = new_key_pair()
    signer = IntervalSigner(runner, load_private_key(private), interval=3600)
    runner.catch_up()

    first = signer.sign_if_moved()
    again = signer.sign_if_moved()
    world.call("admin", "POST", "/members", {"name": "Zhou"})
    runner.catch_up()
    moved = signer.sign_if_moved()

    assert first is not None
    assert again is None
    assert moved is not None
    assert moved.position > first.position
