"""The FastAPI application factory: one ledger per process, built in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routers import health
from api.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = settings.open_ledger()
        app.state.ledger = ledger
        try:
            yield
        finally:
            ledger.close()

    app = FastAPI(
        title="Timebank",
        summary="An event-sourced ledger for community time banks (时间银行).",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    return app
