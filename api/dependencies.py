"""What routes are given: the ledger, its projections, the caller and the client request id."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.answers import followed
from api.errors import InvalidQueryError, StaleViewsError, UnauthenticatedError
from api.settings import Settings
from api.signins import Refusal, SignedIn, SignInGuard, client_address
from api.threads import in_a_worker_thread
from projections.queries import Reader
from projections.queries.base import Freshness
from projections.runner import ProjectionRunner
from projections.visibility import Viewer, require_auditor
from timebank.application import SYSTEM_ACTOR_ID, Actor, TimeBank
from timebank.cache import NotInMemoryError

MAX_IDEMPOTENCY_KEY_LENGTH = 200


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A member's token (from POST /members or POST /members/{id}/tokens), "
    "or the bootstrap TIMEBANK_ADMIN_TOKEN.",
)


# Dependencies that only look at memory are `async`: FastAPI runs them on the event loop
# instead of sending each to a worker thread. Those that read the store hand that part to
# a worker thread themselves.


async def get_ledger(request: Request) -> TimeBank:
    ledger: TimeBank = request.app.state.ledger
    return ledger


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Ledger = Annotated[TimeBank, Depends(get_ledger)]
AppSettings = Annotated[Settings, Depends(get_settings)]


async def get_runner(request: Request) -> ProjectionRunner:
    runner: ProjectionRunner = request.app.state.projections
    return runner


Runner = Annotated[ProjectionRunner, Depends(get_runner)]


def _same_secret(given: str, expected: str) -> bool:
    """Constant time, whatever the lengths: compare fixed-size digests."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest(),
        hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest(),
    )


BearerToken = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def authenticated_actor(request: Request, credentials: BearerToken) -> UUID:
    """The member the bearer token signs in; the admin token acts as the system itself.
    (Once per request: every dependency that needs the caller depends on this one. What
    it needs of the application it takes from the application's state rather than through
    dependencies of its own: each dependency costs every request its resolution.)"""
    state = request.app.state
    return await _signed_in(request, state.ledger, state.settings, credentials)


ActorId = Annotated[UUID, Depends(authenticated_actor)]


async def get_reader(request: Request, actor_id: ActorId) -> Reader:
    """The read side for this request: its reads include every event this process's
    commands saved and the caller's own last write, whichever process served it, so a read
    after a successful write sees the write (the views' writer folds it at once; another
    process waits for the writer, bounded). The check is the first query of the read's
    own snapshot (`Reader.fresh_for`): no worker-thread hop of its own."""
    runner: ProjectionRunner = request.app.state.projections
    ledger: TimeBank = request.app.state.ledger

    def wait(position: int) -> None:
        if not runner.wait_for(position):
            raise StaleViewsError(position)

    reader: Reader = request.app.state.reader
    return reader.fresh_for(Freshness(actor_id, ledger.last_position(), wait))


Reads = Annotated[Reader, Depends(get_reader)]


async def get_reads_after_write(request: Request, ledger: Ledger) -> Callable[[], Reader]:
    """For a command that answers with what the read side shows (names, statuses): call
    after the command, in its worker thread, to read once the views include it."""
    runner: ProjectionRunner = request.app.state.projections
    reader: Reader = request.app.state.reader

    def after_write() -> Reader:
        head = ledger.last_position()
        if not runner.wait_for(head):
            raise StaleViewsError(head)
        return reader

    return after_write


ReadsAfterWrite = Annotated[Callable[[], Reader], Depends(get_reads_after_write)]


async def current_actor(request: Request, actor_id: ActorId) -> Actor:
    """The caller with the global roles they hold right now: from memory, as of the store
    question signing in asked (see `_signed_in`), else in a worker thread."""
    ledger: TimeBank = request.app.state.ledger
    try:
        with ledger.reading_from_memory():
            return ledger.actor(actor_id)
    except NotInMemoryError:

        def from_the_store() -> Actor:
            with ledger.reading():
                return ledger.actor(actor_id)

        return await in_a_worker_thread(from_the_store)


async def signed_in_credential(request: Request, actor_id: ActorId) -> UUID | None:
    """The credential the caller signed in with (None for the bootstrap admin token): a
    spend records it, so that auditors see spends made with a credential someone other
    than the member issued."""
    credential: UUID | None = getattr(request.state, "credential_id", None)
    return credential


CredentialId = Annotated[UUID | None, Depends(signed_in_credential)]


async def _signed_in(
    request: Request,
    ledger: TimeBank,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
) -> UUID:
    """Sign in, seeing the ledger at least as it stood when the request arrived: from
    memory on the event loop after the store question this request shares with its
    neighbours (`answers.followed`), else in a worker thread. The credential signed in
    with is kept on the request (see `signed_in_credential`)."""
    if credentials is None:
        raise UnauthenticatedError(
            "this needs an 'Authorization: Bearer <token>' header", token_presented=False
        )
    token = credentials.credentials
    if settings.admin_token is not None and _same_secret(
        token, settings.admin_token.get_secret_value()
    ):
        return SYSTEM_ACTOR_ID
    await followed(request.scope)
    guard: SignInGuard = request.app.state.sign_ins
    try:
        with ledger.reading_from_memory():
            outcome = guard.signing_in(ledger, token)
    except NotInMemoryError:

        def from_the_store() -> SignedIn | Refusal:
            with ledger.reading():
                return guard.signing_in(ledger, token)

        outcome = await in_a_worker_thread(from_the_store)
    if isinstance(outcome, SignedIn):
        request.state.credential_id = outcome.credential_id
        return outcome.member_id
    store = request.app.state.projections.store
    too_many = await in_a_worker_thread(
        guard.refused, store, client_address(request), outcome.reason, outcome.credential_id
    )
    if too_many is not None:
        raise too_many
    if outcome.reason == "expired":
        raise UnauthenticatedError(
            "the token is past its lifetime: ask an admin for a new one, and rotate tokens "
            "(POST /tokens/rotate) before they expire",
            token_presented=True,
            code="token_expired",
        )
    raise UnauthenticatedError("the token is unknown or revoked", token_presented=True)


Caller = Annotated[Actor, Depends(current_actor)]


async def the_viewer(actor: Caller) -> Viewer:
    """The caller as the read side's rule sees them (projections.visibility)."""
    return Viewer.of(actor)


ViewerOf = Annotated[Viewer, Depends(the_viewer)]


async def auditing_viewer(viewer: ViewerOf) -> Viewer:
    require_auditor(viewer)
    return viewer


AuditingViewer = Annotated[Viewer, Depends(auditing_viewer)]


async def client_request_id(
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


async def one_value_per_query_parameter(request: Request) -> None:
    """Every query parameter of this API takes one value. A repeated one is ambiguous
    (which of them would filter?), so it is refused rather than the last silently taken,
    as unknown parameters are; like the body size limit, before authentication."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen:
            raise InvalidQueryError(name, "is given more than once; give it once")
        seen.add(name)
