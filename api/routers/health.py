"""Liveness and readiness: answered without credentials, so load balancers and monitors
can ask. `/health` says the process lives; `/health/ready` that it can serve requests now,
which it cannot while its store is out of reach."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.bodies import StrictJSONRoute
from api.dependencies import Ledger, Runner
from api.errors import error_responses

router = APIRouter(route_class=StrictJSONRoute, tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/health", summary="The process is alive (it may still be waiting for its store)")
async def health() -> Health:
    """On the event loop: a probe never waits its turn behind the reads of a busy process
    (api/threads.py), which could make a load balancer take a live process for dead."""
    return Health(status="ok")


@router.get(
    "/health/ready",
    responses=error_responses(503),
    summary="The process can serve: its event store and its views answer",
)
def ready(ledger: Ledger, runner: Runner) -> Health:
    """Asks both stores one small question each; while either cannot be reached this is
    503 `unavailable` within the connect timeout (`TIMEBANK_CONNECT_TIMEOUT`)."""
    ledger.recorder.max_notification_id()
    with runner.store.read() as conn:
        conn.execute(text("SELECT 1"))
    return Health(status="ready")
