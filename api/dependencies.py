"""What routes are given: the ledger, the authenticated actor and the client request id."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import UnauthenticatedError
from api.settings import Settings
from timebank.application import SYSTEM_ACTOR_ID, TimeBank

MAX_IDEMPOTENCY_KEY_LENGTH = 200

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A member's token (from POST /members or POST /members/{id}/tokens), "
    "or the bootstrap TIMEBANK_ADMIN_TOKEN.",
)


def get_ledger(request: Request) -> TimeBank:
    ledger: TimeBank = request.app.state.ledger
    return ledger


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Ledger = Annotated[TimeBank, Depends(get_ledger)]


def _same_secret(given: str, expected: str) -> bool:
    """Constant time, whatever the lengths: compare fixed-size digests."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest(),
        hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest(),
    )


def authenticated_actor(
    ledger: Ledger,
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UUID:
    """The member the bearer token signs in; the admin token acts as the system itself."""
    if credentials is None:
        raise UnauthenticatedError(
            "this needs an 'Authorization: Bearer <token>' header", token_presented=False
        )
    token = credentials.credentials
    if settings.admin_token is not None and _same_secret(
        token, settings.admin_token.get_secret_value()
    ):
        return SYSTEM_ACTOR_ID
    member_id = ledger.authenticate(token)
    if member_id is None:
        raise UnauthenticatedError("the token is unknown or revoked", token_presented=True)
    return member_id


ActorId = Annotated[UUID, Depends(authenticated_actor)]


def client_request_id(
    actor_id: ActorId,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
            description=(
                "Makes a retry safe: a repeat with the same key and body returns the "
                "original status and body and changes nothing; the same key with a "
                "different body is 409 idempotency_key_reused. Keys are per caller."
            ),
        ),
    ] = None,
) -> str | None:
    """The ledger's request id: the key namespaced by the caller, so callers never collide."""
    return None if idempotency_key is None else f"{actor_id}:{idempotency_key}"


RequestId = Annotated[str | None, Depends(client_request_id)]
