"""Answering 503 at once while the store is out of reach, before a request waits for it.

The ledger's gate (`timebank.availability`) knows that the last attempt to reach the store
failed; until the next trial is due, every request but the liveness check and the API's
own description is answered `503 unavailable` without touching the store. Once a trial
succeeds, requests go through again by themselves.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import RETRY_AFTER_SECONDS, error_response
from timebank.availability import StoreGate

ALWAYS_ANSWERED = frozenset({"/health", "/docs", "/redoc", "/openapi.json"})


class FailFast:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in ALWAYS_ANSWERED:
            ledger = getattr(scope["app"].state, "ledger", None)
            gate: StoreGate | None = getattr(ledger, "gate", None)
            if gate is not None and gate.refusing():
                response = error_response(
                    503,
                    "unavailable",
                    "the ledger's store cannot be reached; try again",
                    headers={"Retry-After": RETRY_AFTER_SECONDS},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
