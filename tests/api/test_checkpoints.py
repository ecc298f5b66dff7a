"""GET /audit/checkpoints/latest: the checkpoint the ledger signed last, for auditors to keep."""

from __future__ import annotations

from projections.checkpoints import Checkpoint, load_private_key, new_key_pair, sign_checkpoint
from projections.runner import ProjectionRunner
from tests.api.conftest import World
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
