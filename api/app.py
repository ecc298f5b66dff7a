"""The FastAPI application factory: one ledger per process, built in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import Depends, FastAPI

from api.answers import KeptAnswers, KeptAnswersFirst
from api.availability import FailFast
from api.dependencies import one_value_per_query_parameter
from api.errors import error_responses, install_error_handlers
from api.freshness import StoreFollower
from api.limits import BodySizeLimit
from api.paging import DESCRIPTION as PAGING
from api.routers import (
    activities,
    audit,
    certificates,
    checkpoints,
    health,
    me,
    members,
    pairings,
    policy,
    rankings,
    redemptions,
    reports,
    service_logs,
    sign_ins,
    teams,
    tokens,
    transfers,
)
from api.settings import Settings
from api.threads import take_turns, width_for
from projections.collector import settle_after_start
from projections.queries import Reader
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from timebank.application import TimeBank
from web.app import install_web

LOG = logging.getLogger(__name__)

DESCRIPTION = """\
An event-sourced ledger for community time banks (时间银行): volunteers earn minutes for
service a coordinator approves, keep them, give them to relatives and spend them on care.

- **Authentication.** Every endpoint but `GET /health` and `GET /health/ready` needs
  `Authorization: Bearer <token>`: a member's token (from `POST /members` or
  `POST /members/{id}/tokens`) or the bootstrap `TIMEBANK_ADMIN_TOKEN`. Missing, unknown
  or revoked: 401 (`token_expired` past its lifetime). Known but not allowed: 403. Too
  many refused tokens from one address: 429 with `Retry-After`.
- **Errors.** Every error has the body `{"error": {"code", "message", "details"?}}`.
- **Retries.** Any POST or DELETE may carry `Idempotency-Key`: a repeat with the same key
  and body returns the original status and body and changes nothing; the same key with a
  different body is 409 `idempotency_key_reused`.
- **Values.** Minutes are whole numbers; dates are `YYYY-MM-DD` (from 1900-01-01);
  instants are ISO 8601 in UTC; ids are strings (UUIDs); numbers in the query are the
  digits 0-9. Texts are kept in Unicode NFC, trimmed; control, bidirectional and
  invisible formatting characters are refused. A JSON body giving a key twice is 422.
- **Reads.** A read after a successful write on the same server reflects the write. A
  member's profile, balance and statement are seen by the member, the coordinators of a
  team they belong to, auditors and admins; the audit endpoints by auditors and admins.
"""
DESCRIPTION += f"- **Lists.** {PAGING}\n"
DESCRIPTION += (
    "- **Certificates.** Anyone, without an account, verifies a certificate by the code or "
    "QR code printed on it: `GET /verification/{code}` (JSON), `GET /verify/{code}` (a page).\n"
)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    serving: bool = False,
) -> FastAPI:
    """The API over the configured ledger; `clock` decides "today" (tests fix it). A
    `serving` app is a server process's only one: it settles the garbage collector once
    started (`settle_after_start`), which an app a test starts and drops must not.

    The process holds no copy of the ledger's history: reads are SQL over the view tables
    (`projections.queries`). One process among those serving a store writes the views
    (`projections.locks`); the others read them, and take over the writing if it goes."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = settings.open_ledger(clock=clock)
        _say_if_seed_set_aside(ledger)
        store = ViewStore.open(ledger, pool_size=settings.postgres_pool_size)
        take_turns(width_for(store.dialect))
        store.locks.hold_serving()
        store.prepare()
        runner = ProjectionRunner(ledger, store)
        ledger.on_saved = store.note_caller  # a later read on any process waits for it
        if runner.claim():
            runner.catch_up()  # the writer serves views that include every stored event
        runner.start(interval=settings.projection_interval)
        signer = settings.checkpoint_signer(runner)
        sweeper = settings.expiry_sweeper(runner)
        app.state.ledger = ledger
        app.state.projections = runner
        app.state.reader = Reader(store, ledger.today)
        answers = app.state.answers = KeptAnswers()

        def follow() -> None:
            log, views = store.heads()
            answers.saw(ledger.follow_store(log), views)

        app.state.store_follower = StoreFollower(follow)
        app.state.sign_ins = settings.sign_in_guard()
        if serving:
            settle_after_start()
        try:
            yield
        finally:
            signer.stop()
            sweeper.stop()
            runner.stop()
            store.close()
            ledger.close()

    app = FastAPI(
        title="Timebank",
        summary="An event-sourced ledger for community time banks (时间银行).",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by web.app from a package, not from a CDN
        redoc_url=None,
        dependencies=[Depends(one_value_per_query_parameter)],
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(KeptAnswersFirst)  # innermost: after the fail-fast check
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(FailFast)
    app.include_router(health.router)
    for router in (
        me.router,
        members.router,
        tokens.router,
        teams.router,
        service_logs.router,
        activities.router,
        pairings.router,
        policy.router,
        redemptions.router,
        transfers.router,
        rankings.router,
        audit.router,
        checkpoints.router,
        certificates.router,
        reports.router,
        sign_ins.router,
    ):
        # Every route that signs its caller in may answer 429 (see api/signins.py).
        app.include_router(router, responses=error_responses(429))
    install_web(app)
    return app


def serving_app() -> FastAPI:
    """The app of one `timebank serve` worker process (a uvicorn factory)."""
    return create_app(serving=True)


def _say_if_seed_set_aside(ledger: TimeBank) -> None:
    """The seed settings changed after the ledger stored its rules: they change nothing, and
    an operator who set them should learn so from the log, not from a refusal."""
    if ledger.seed_set_aside() is not None:
        version = ledger.rules_in_force().version
        LOG.warning(
            "TIMEBANK_BALANCE_CAP_MINUTES, TIMEBANK_REDEMPTION_MIN_AGE and TIMEBANK_STAR_LADDER "
            "differ from the rules this ledger stored; they only seed a new ledger. The rules "
            "in force are version %d (GET /policy); adopt a new version with `timebank policy "
            "adopt` or POST /policy.",
            version,
        )
