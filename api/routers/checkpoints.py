"""For auditors and admins: the latest checkpoint the ledger signed, to keep elsewhere."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.bodies import StrictJSONRoute
from api.dependencies import AuditingViewer, Ledger
from api.errors import error_responses
from projections.checkpoints import checkpoint_table
from timebank.errors import NotFoundError

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/audit/checkpoints",
    tags=["audit"],
    responses=error_responses(401, 403, 404, 413, 422, 503),
)


class CheckpointOut(BaseModel):
    """Where the ledger stood, signed with Ed25519: `count` events up to `position`, the
    audit chain's hash there and the account totals there. Keep it, and check later
    histories against it with `timebank verify --checkpoint` and the ledger's public key."""

    model_config = ConfigDict(extra="forbid")

    position: int = Field(description="The log position the checkpoint stands at.")
    count: int = Field(description="How many events are stored up to that position.")
    head_hash: str = Field(description="The audit chain's SHA-256 hash at that position.")
    totals: dict[str, int] = Field(
        description="Minutes: members, held, issuance, redeemed and their sum."
    )
    signed_at: str = Field(description="When it was signed (ISO 8601, UTC).")
    public_key: str = Field(description="The signing Ed25519 public key (base64).")
    signature: str = Field(description="The Ed25519 signature (base64).")


@router.get("/latest", summary="The latest signed checkpoint (auditors, admins)")
def latest_checkpoint(viewer: AuditingViewer, ledger: Ledger) -> CheckpointOut:
    """The checkpoint at the furthest position whose signature holds (rows written into the
    table by hand are passed over); 404 while none has been signed."""
    latest = checkpoint_table(ledger).latest()
    if latest is None:
        raise NotFoundError("checkpoint", "latest")
    return CheckpointOut.model_validate(latest.as_json())
