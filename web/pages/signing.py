"""Signing in (a token, or a card link from a printed member card), out, and the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dependencies import Ledger
from web.auth import (
    PageRoute,
    SignInNeededError,
    SignInRefused,
    browser_form_secret,
    check_browser_form,
    checked_form,
    sessions_of,
    set_session_cookie,
    sign_in_with,
    signed_in,
)
from web.i18n import LANGUAGE_COOKIE, LANGUAGES
from web.sessions import SESSION_COOKIE
from web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_TOKEN_LENGTH = 200


def _home_of(request: Request, ledger: Ledger) -> str:
    try:
        visitor = signed_in(request, ledger)
    except SignInNeededError:
        return "/signin"
    if visitor.actor.is_admin:
        return "/admin"
    if visitor.actor.is_auditor:
        return "/auditor"
    return "/my"


@router.get("/")
def home(request: Request, ledger: Ledger) -> Response:
    """The first page: one's own page when signed in, else signing in."""
    return RedirectResponse(_home_of(request, ledger), status_code=303)


def _sign_in_page(request: Request, refused: SignInRefused | None = None) -> HTMLResponse:
    """The sign-in form; after a refusal, with why (429 and Retry-After once an address
    has had too many tokens refused, as the API answers)."""
    page = render(
        request,
        "signin.html",
        {"csrf": browser_form_secret(request), "refused": refused, "visitor": None},
        status_code=200 if refused is None else 429 if refused.retry_after else 401,
    )
    if refused is not None and refused.retry_after:
        page.headers["Retry-After"] = str(refused.retry_after)
    return page


@router.get("/signin")
def sign_in_page(request: Request) -> HTMLResponse:
    return _sign_in_page(request)


def _signed_in_response(request: Request, ledger: Ledger, token: str) -> Response:
    started = sign_in_with(request, ledger, token.strip()[:MAX_TOKEN_LENGTH])
    if isinstance(started, SignInRefused):
        return _sign_in_page(request, started)
    session_id, _ = started
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:  # signing in again (as someone else, say) ends the session before
        sessions_of(request).end(earlier)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, session_id)
    return response


@router.post("/signin")
def sign_in(
    request: Request,
    ledger: Ledger,
    token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_browser_form(request, csrf)
    return _signed_in_response(request, ledger, token)


@router.get("/card/{secret}")
def card_link(secret: str, request: Request, ledger: Ledger) -> Response:
    """The link (and QR code) printed on a member card: opening it signs the member in."""
    return _signed_in_response(request, ledger, secret)


@router.post("/signout")
def sign_out(request: Request, ledger: Ledger, csrf: Annotated[str, Form()] = "") -> Response:
    """Ends the session on the server: the cookie is worthless from now on, anywhere."""
    visitor = checked_form(signed_in(request, ledger), csrf)
    sessions_of(request).end(visitor.session_id)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{language}")
def choose_language(language: str, request: Request, back: str = "/") -> Response:
    """Remembers the reader's language for a year; back to the page they were on."""
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", path="/"
        )
    return response
