"""Answers kept while nothing is written: the same read asked again is answered from memory.

Most requests read. Members look at their balance, coordinators reload their lists, a street
office's screen refreshes the rankings, and between two writes none of those answers can
change. So a process keeps the answers it gave (as the bytes it sent), for as long as the
views stand where they stood when the answers were read; anything written moves them on,
and every kept answer is dropped. Requests that ask the same while its answer is being read
wait for that read rather than each reading again (a page's first burst of visitors).

Whether a request may take a kept answer is proven, not guessed. Each request's sign-in
waits for a store question asked after the request arrived (api/freshness.py). That
question reads how far the log reaches, then how far the views stand. When the views
include the whole log, they are *settled* at their position: an answer read at that
position or later includes every write made before the request arrived, the caller's own
and this process's included, as read-your-writes requires. Answers are kept per position;
the first answer read at a newer position drops the older ones.

An answer read while the views move on may be newer than the position it is kept under,
never older, and a newer answer is fresh enough for every request that position serves.
A kept answer costs no worker thread (api/threads.py), no query and no rendering: those were
most of a read's time under load (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date

from fastapi import Request, Response
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.availability import ALWAYS_ANSWERED
from api.signins import SignedIn, SignInGuard
from api.threads import in_a_worker_thread
from projections.visibility import Viewer
from timebank.application import TimeBank
from timebank.cache import NotInMemoryError
from timebank.errors import TimebankError

KEPT_BYTES = 16 * 2**20  # per process; beyond it, the least recently asked answers go first

_SETTLED = "settled_at"  # on request.state: where the views were settled after sign-in


async def followed(scope: Scope) -> int | None:
    """Return once a store question asked after the request arrived is answered (asked
    once per request, shared with its neighbours: api/freshness.py): where the views were
    settled then, if they were, is the position the request may be answered at."""
    state = scope.setdefault("state", {})
    if _SETTLED not in state:
        app_state = scope["app"].state
        await app_state.store_follower.caught_up()
        state[_SETTLED] = app_state.answers.settled
    settled: int | None = state[_SETTLED]
    return settled


class KeptAnswers:
    """One process's kept answers, the reads under way, and what its last store question
    found. (Used on the event loop, but for `saw`.)"""

    def __init__(self, budget: int = KEPT_BYTES) -> None:
        self.budget = budget
        self._settled: int | None = None
        self._position = -1  # the position the kept answers were read at
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0  # bytes kept
        self._reading: dict[Hashable, asyncio.Task[bytes]] = {}  # at `_position`

    def saw(self, log: int | None, views: int) -> None:
        """What a store question found: how far the log reaches (None: not known), then
        how far the views stand, read in that order. (In a worker thread: one assignment.)"""
        self._settled = views if log is not None and views >= log else None

    @property
    def settled(self) -> int | None:
        """Where the views stood, holding the whole log, at the last store question."""
        return self._settled

    def get(self, position: int, key: Hashable) -> bytes | None:
        if position != self._position:
            return None
        body = self._kept.get(key)
        if body is not None:
            self._kept.move_to_end(key)
        return body

    def keep(self, position: int, key: Hashable, body: bytes) -> None:
        if not self._at(position):
            return  # read for a request that came before the views moved on
        old = self._kept.pop(key, None)
        self._size += len(body) - (len(old) if old is not None else 0)
        self._kept[key] = body
        while self._size > self.budget:
            _, dropped = self._kept.popitem(last=False)
            self._size -= len(dropped)

    def reading(
        self, position: int, key: Hashable, read: Callable[[], BaseModel]
    ) -> asyncio.Task[bytes]:
        """The read of `key` at `position` under way, begun now if none is: its answer is
        kept when it ends. Callers await it shielded: one who goes away stops no one."""
        task = self._reading.get(key) if position == self._position else None
        if task is None:
            task = asyncio.create_task(self._read(position, key, read))
            task.add_done_callback(_retrieved)
            if self._at(position):
                self._reading[key] = task
        return task

    async def _read(self, position: int, key: Hashable, read: Callable[[], BaseModel]) -> bytes:
        try:
            body = _rendered(await in_a_worker_thread(read))
        finally:
            if position == self._position and self._reading.get(key) is asyncio.current_task():
                del self._reading[key]
        self.keep(position, key, body)
        return body

    def _at(self, position: int) -> bool:
        """Whether answers read at `position` may be kept: the views' newest yet seen (the
        older answers and reads are forgotten when the views move on)."""
        if position > self._position:
            self._kept.clear()
            self._reading.clear()
            self._size = 0
            self._position = position
        return position == self._position


async def answered(
    request: Request, viewer: Viewer, day: date, read: Callable[[], BaseModel]
) -> Response:
    """The JSON answer to a read: kept, when the views have not moved since it was read for
    the same caller, URL and day; else `read()` in a worker thread, kept for the next one.
    Only for reads whose answer depends on nothing else (no header, no body). A request
    that finds its answer kept is mostly answered before it reaches here
    (`KeptAnswersFirst`)."""
    position: int | None = getattr(request.state, _SETTLED, None)
    if position is None:
        body = _rendered(await in_a_worker_thread(read))
    else:
        answers: KeptAnswers = request.app.state.answers
        key = _key(viewer, request.scope, day)
        kept = answers.get(position, key)
        if kept is None:
            kept = await asyncio.shield(answers.reading(position, key, read))
        body = kept
    return _json(body)


class KeptAnswersFirst:
    """Kept answers given before the framework sees the request.

    A kept answer costs no query and no rendering, yet through FastAPI it still costs
    routing, the resolution of its route's dependencies and their validation: most of its
    time under load (BENCHMARKS.md). So a GET with a bearer token is signed in here first,
    exactly as the routes sign in (the same shared store question, `followed`, and the same
    `SignInGuard.signing_in`, from memory), and answered with the answer its route kept
    for the same viewer, path, query and day, if there is one. A route keeps an answer
    only after every check of that path and query passed, for this viewer, at a position
    that includes every write made before this request arrived (see the module's text),
    so the answer needs no check again. Anything else (another method, no token, a
    refusal, a caller not in memory, no kept answer, a store that fails) goes on to the
    app, which answers or refuses as always; the store question is not asked twice."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kept = None
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] not in ALWAYS_ANSWERED  # a probe never waits for the store
        ):
            kept = await self._kept(scope)
        if kept is None:
            await self.app(scope, receive, send)
        else:
            await _json(kept)(scope, receive, send)

    async def _kept(self, scope: Scope) -> bytes | None:
        scheme, token = get_authorization_scheme_param(Headers(scope=scope).get("authorization"))
        state = scope["app"].state
        answers: KeptAnswers | None = getattr(state, "answers", None)
        if scheme.lower() != "bearer" or not token or answers is None:
            return None
        try:
            position = await followed(scope)
        except Exception:  # the app asks again, and answers the failure as always
            return None
        if position is None:
            return None
        ledger: TimeBank = state.ledger
        guard: SignInGuard = state.sign_ins
        try:
            with ledger.reading_from_memory():
                outcome = guard.signing_in(ledger, token)
                if not isinstance(outcome, SignedIn):
                    return None
                viewer = Viewer.of(ledger.actor(outcome.member_id))
        except (NotInMemoryError, TimebankError):
            return None
        return answers.get(position, _key(viewer, scope, state.reader.today()))


def _key(viewer: Viewer, scope: Scope, day: date) -> Hashable:
    """What a kept answer is kept under. The path and query as the request carried them:
    `request.url` would build a whole URL object (host header and all) for every request."""
    return (viewer, scope["path"], scope["query_string"], day)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _rendered(model: BaseModel) -> bytes:
    return model.__pydantic_serializer__.to_json(model, by_alias=True)


def _retrieved(task: asyncio.Task[bytes]) -> None:
    """Every waiter may have gone away: the failure is theirs to see, not the loop's log."""
    if not task.cancelled():
        task.exception()
