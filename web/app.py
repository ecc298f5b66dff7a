"""The pages and the offline API docs, installed on the API's own app (same port)."""

from __future__ import annotations

import logging
import re
import threading
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from web.pages import admin, auditor, coordinator, signing, volunteer

STATIC = Path(__file__).parent / "static"
DOCS_ASSETS = "/static/docs"
# Swagger UI 5 and ReDoc as the `fastapi-offline` package ships them (OpenAPI 3.1).
PACKAGED_DOCS = Path(str(files("fastapi_offline") / "static"))


CARD_PATH = re.compile(r"/card/[^\s?#]+")


class CardLinksHidden(logging.Filter):
    """The access log shows `/card/…` for a card link: its path is a sign-in secret, and
    like every token it is never logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                CARD_PATH.sub("/card/…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def hide_card_links(logger: logging.Logger) -> None:
    if not any(isinstance(f, CardLinksHidden) for f in logger.filters):
        logger.addFilter(CardLinksHidden())


def install_web(app: FastAPI) -> None:
    """Pages for people at `/`, their stylesheet, and Swagger UI at `/docs` (ReDoc at
    `/redoc`) from the `fastapi-offline` package: nothing is fetched from another host."""
    app.state.web_sessions_lock = threading.Lock()
    hide_card_links(logging.getLogger("uvicorn.access"))
    app.mount("/static/web", StaticFiles(directory=STATIC), name="web-static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=PACKAGED_DOCS), name="docs-assets")
    for router in (
        signing.router,
        volunteer.router,
        coordinator.router,
        auditor.router,
        admin.router,
    ):
        app.include_router(router)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
