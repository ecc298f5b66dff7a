"""Who is at the browser: the session cookie resolves to the same actor a bearer token
would, the same rules then decide what they may see and do; forms carry a CSRF token."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.persistence import OperationalError
from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import signins
from api.dependencies import Ledger, _same_secret, get_reader
from api.errors import StaleViewsError, ledger_status
from api.settings import Settings
from api.threads import in_a_worker_thread
from projections.periods import PeriodError
from projections.queries import CursorError, Reader
from projections.runner import ProjectionRunner
from projections.visibility import Viewer
from timebank.application import SYSTEM_ACTOR_ID, Actor, TimeBank
from timebank.credentials import Credential
from timebank.errors import TimebankError
from web.i18n import LANGUAGE_COOKIE, chosen_language, gettext
from web.messages import BY_CODE, field_label, localised_message
from web.sessions import SESSION_COOKIE, Session, Sessions
from web.templating import render

# Pages load only what this server serves (no CDN, no fonts from elsewhere), are never
# framed, and send no Referer (a card link's secret never leaves in one).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
FORM_COOKIE = "tb_form"  # the CSRF secret of a browser not yet signed in (double submit)


class SignInNeededError(Exception):
    """No live session: the page asks the reader to sign in."""


class CsrfError(Exception):
    """A form came without the token of the session (or of the browser) that showed it."""


@dataclass(frozen=True)
class Visitor:
    """The signed-in reader of a page."""

    actor: Actor
    session: Session
    session_id: str

    @property
    def viewer(self) -> Viewer:
        return Viewer.of(self.actor)

    @property
    def is_person(self) -> bool:
        """A member, rather than the bootstrap admin token (which has no hours)."""
        return self.actor.id != SYSTEM_ACTOR_ID

    @property
    def csrf(self) -> str:
        return self.session.csrf


def sessions_of(request: Request) -> Sessions:
    """The sessions' table beside the views, made on first use (the views' store opens
    in the API's lifespan, after the pages are installed)."""
    state = request.app.state
    with state.web_sessions_lock:
        sessions: Sessions | None = getattr(state, "web_sessions", None)
        if sessions is None:
            runner: ProjectionRunner = state.projections
            sessions = Sessions(runner.store.engine, writes=runner.store.write)
            state.web_sessions = sessions
        return sessions


def credential_active(ledger: TimeBank, credential_id: UUID) -> bool:
    with ledger.reading():
        credential: object = ledger.repository.get(credential_id, deepcopy_from_cache=False)
    return isinstance(credential, Credential) and credential.is_active


def signed_in(request: Request, ledger: Ledger) -> Visitor:
    """The session's member, as long as the session lives and the credential it was
    started with is not revoked; the roles they hold now. (Reads the store: a worker
    thread, as FastAPI runs plain `def` dependencies.)"""
    session_id = request.cookies.get(SESSION_COOKIE)
    session = None if not session_id else sessions_of(request).find(session_id)
    if session_id is None or session is None:
        raise SignInNeededError()
    if session.credential_id is not None and not credential_active(ledger, session.credential_id):
        raise SignInNeededError()
    with ledger.reading():
        actor = ledger.actor(session.member_id)
    return Visitor(actor, session, session_id)


SignedIn = Annotated[Visitor, Depends(signed_in)]


async def page_reader(request: Request, visitor: SignedIn) -> Reader:
    """The API's read side, fresh for this reader's own last write (api.dependencies)."""
    return await get_reader(request, visitor.actor.id)


PageReads = Annotated[Reader, Depends(page_reader)]


def checked_form(visitor: SignedIn, csrf: Annotated[str, Form()] = "") -> Visitor:
    """Every form of a signed-in page: its token must be the session's."""
    if not csrf or not secrets.compare_digest(csrf.encode(), visitor.csrf.encode()):
        raise CsrfError()
    return visitor


FormVisitor = Annotated[Visitor, Depends(checked_form)]


def browser_form_secret(request: Request) -> str:
    """The double-submit secret of a browser not signed in (made when a page shows it)."""
    secret: str = getattr(request.state, "form_secret", None) or request.cookies.get(
        FORM_COOKIE, ""
    )
    if not secret:
        secret = secrets.token_urlsafe(24)
        request.state.form_secret = secret
    return secret


def check_browser_form(request: Request, csrf: str) -> None:
    cookie = request.cookies.get(FORM_COOKIE, "")
    if not cookie or not csrf or not secrets.compare_digest(cookie.encode(), csrf.encode()):
        raise CsrfError()


@dataclass(frozen=True)
class SignInRefused:
    """Why a token or card link signed nobody in on the pages: "unknown" (or revoked),
    "expired", or "limited" (too many refusals from the address: try after `retry_after`
    seconds). Counted and recorded as the API's refusals are (api/signins.py)."""

    reason: str
    retry_after: int | None = None


def sign_in_with(
    request: Request, ledger: TimeBank, token: str
) -> tuple[str, Session] | SignInRefused:
    """A session for whoever the token (or card link's secret) signs in, else why not.
    Called in a worker thread: a refusal is written to the store."""
    settings: Settings = request.app.state.settings
    if settings.admin_token is not None and _same_secret(
        token, settings.admin_token.get_secret_value()
    ):
        return sessions_of(request).start(SYSTEM_ACTOR_ID, None)
    guard: signins.SignInGuard = request.app.state.sign_ins
    with ledger.reading():
        outcome = guard.signing_in(ledger, token)
    if isinstance(outcome, signins.SignedIn):
        return sessions_of(request).start(outcome.member_id, outcome.credential_id)
    store = request.app.state.projections.store
    address = signins.client_address(request)
    too_many = guard.refused(store, address, outcome.reason, outcome.credential_id)
    if too_many is not None:
        return SignInRefused("limited", too_many.retry_after)
    return SignInRefused(outcome.reason)


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=sessions_of(request).seconds,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def _status_of(error: Exception) -> tuple[int, str]:
    """The status and code the API gives the same refusal (its one table)."""
    if isinstance(error, TimebankError):
        return ledger_status(error), error.code
    if isinstance(error, CsrfError):
        return 403, "csrf"
    if isinstance(error, RequestValidationError | CursorError | PeriodError):
        return 422, "invalid_request"
    if isinstance(error, StaleViewsError):
        return 503, "stale"
    if isinstance(error, OperationalError):
        return 503, "unavailable"
    if isinstance(error, StarletteHTTPException):
        return error.status_code, "not_found" if error.status_code == 404 else "invalid_request"
    return 500, "conflict"


async def error_page(request: Request, error: Exception) -> Response:
    """A refusal shown as a page in the reader's language, with the same status the API
    would give, and a way back."""
    if isinstance(error, SignInNeededError):
        return RedirectResponse("/signin", status_code=303)
    status, code = _status_of(error)
    language: str = request.state.language
    if isinstance(error, TimebankError):
        message = await in_a_worker_thread(localised_message, request, error, code, language)
    elif isinstance(error, RequestValidationError):
        fields = "、".join(
            dict.fromkeys(
                gettext(language, field_label(str(e.get("loc", ("",))[-1]))) for e in error.errors()
            )
        )
        message = gettext(language, BY_CODE[code]) + (f" ({fields})" if fields else "")
    else:
        message = gettext(language, BY_CODE.get(code, BY_CODE["conflict"]))
    referer = request.headers.get("referer", "")
    back = referer if referer.startswith(str(request.base_url)) else "/"
    return render(
        request,
        "error.html",
        {"message": message, "status": status, "back": back, "visitor": None},
        status_code=status,
    )


_PAGE_ERRORS = (
    SignInNeededError,
    CsrfError,
    TimebankError,
    RequestValidationError,
    CursorError,
    PeriodError,
    StaleViewsError,
    OperationalError,
)


class PageRoute(APIRoute):
    """Every page: its language decided first, and every refusal (from the ledger, the
    reads, the form or the session) rendered as a page rather than JSON: the one place
    where the pages' errors become responses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            request.state.language = chosen_language(request.cookies.get(LANGUAGE_COOKIE))
            try:
                response = await handle(request)
            except _PAGE_ERRORS as error:
                response = await error_page(request, error)
            response.headers.update(SECURITY_HEADERS)
            secret = getattr(request.state, "form_secret", None)
            if secret:
                response.set_cookie(FORM_COOKIE, secret, httponly=True, samesite="strict")
            return response

        return page
