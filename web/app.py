"""The pages and the offline API docs, installed on the API's own app (same port)."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from web.pages import admin, auditor, coordinator, signing, volunteer

STATIC = Path(__file__).parent / "static"
SWAGGER = "/static/swagger-ui"


def install_web(app: FastAPI) -> None:
    """Pages for people at `/`, their stylesheet, and Swagger UI at `/docs` from the
    `swagger-ui-bundle` package: nothing is fetched from another host."""
    app.state.web_sessions_lock = threading.Lock()
    app.mount("/static/web", StaticFiles(directory=STATIC), name="web-static")
    app.mount(SWAGGER, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
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
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )
