"""The one place where refusals become HTTP: every error body is {"error": {...}}."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sql
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.documents.fonts import MissingFontError
from api.signins import TooManyAttemptsError
from api.threads import in_a_worker_thread
from projections.periods import PeriodError
from projections.queries import CursorError
from timebank.errors import (
    BalanceCapExceededError,
    ConcurrencyError,
    ConflictError,
    IdempotencyKeyReusedError,
    InsufficientMinutesError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    TimebankError,
)
from web.i18n import from_accept_language
from web.messages import localised_message

RETRY_AFTER_SECONDS = "1"


class UnauthenticatedError(Exception):
    """No bearer token came with the request, or the token is unknown or revoked."""

    def __init__(self, message: str, *, token_presented: bool, code: str = "unauthorized") -> None:
        super().__init__(message)
        self.message = message
        self.token_presented = token_presented
        self.code = code  # token_expired: a real token past its lifetime


class StaleViewsError(Exception):
    """The views did not reach the caller's own write in time (their writer is busy or
    gone); nothing was read, and the request may be retried."""

    def __init__(self, position: int) -> None:
        super().__init__(f"the views have not yet reached position {position}")
        self.position = position


class InvalidQueryError(Exception):
    """A query parameter is well formed but names nothing usable (an unknown `after`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class FieldProblem(BaseModel):
    """What is wrong with one field of the request."""

    field: str = Field(description="The field, dotted for nested ones (`roles.0`).")
    location: str | None = Field(
        None, description="Where the field is: body, path, query or header."
    )
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(
        description=(
            "A stable, machine-readable code: unauthorized, forbidden, not_found, "
            "method_not_allowed, invalid_request, insufficient_minutes, invalid_state, "
            "idempotency_key_reused, balance_cap_exceeded, conflict, busy, unavailable, stale, "
            "token_expired, too_many_attempts."
        )
    )
    message: str = Field(description="What went wrong, for people.")
    details: list[FieldProblem] | None = Field(
        None, description="The fields at fault (invalid_request only)."
    )


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


_DESCRIPTIONS = {
    401: (
        "No bearer token, or one that is unknown or revoked (code `unauthorized`), or past "
        "its lifetime (code `token_expired`)."
    ),
    403: "The token is known, but its member may not do this (code `forbidden`).",
    404: "No such resource (code `not_found`).",
    405: "The path does not take this method (code `method_not_allowed`).",
    409: (
        "The ledger refuses in its current state: insufficient_minutes, invalid_state, "
        "idempotency_key_reused, balance_cap_exceeded."
    ),
    413: "The request body is larger than the server takes (code `payload_too_large`).",
    422: (
        "A field or query parameter is unknown, of the wrong type, out of range, or breaks "
        "a rule of the ledger (a service date in the future, a period that does not exist, "
        "an `after` that names nothing) (code `invalid_request`)."
    ),
    429: (
        "Too many refused tokens came from this address lately (code `too_many_attempts`); "
        "`Retry-After` says when to try again. A valid token is never refused so."
    ),
    503: (
        "Nothing was changed and the request may be retried: concurrent writers kept "
        "colliding (code `busy`) or the store did not answer (code `unavailable`)."
    ),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for routes: each status with the error body."""
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorInfo(code=code, message=message, details=details))
    return JSONResponse(
        status_code=status,
        content=body.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


# The status of each kind of refusal; its code is the refusal's own (`TimebankError.code`).
# A subclass is looked up before its base (ConflictError last).
_LEDGER_STATUSES: dict[type[TimebankError], int] = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    InvalidRequestError: 422,
    InsufficientMinutesError: 409,
    InvalidStateError: 409,
    IdempotencyKeyReusedError: 409,
    BalanceCapExceededError: 409,
    # Writers kept colliding and the command gave up having changed nothing: not a
    # conflict the client must resolve, so "busy, try again" rather than 409.
    ConcurrencyError: 503,
    ConflictError: 409,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def ledger_status(exc: Exception) -> int:
    """The HTTP status of a refusal of the ledger (the pages show the same)."""
    return next(
        (_LEDGER_STATUSES[kind] for kind in type(exc).__mro__ if kind in _LEDGER_STATUSES),
        409,
    )


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    status = ledger_status(exc)
    code = exc.code if isinstance(exc, TimebankError) else "conflict"
    message, details = str(exc), None
    if isinstance(exc, InvalidRequestError):
        details = [FieldProblem(field=exc.field, location="body", message=exc.message)]
    if isinstance(exc, IdempotencyKeyReusedError):
        # The ledger's request id is the key namespaced by the caller: show the key alone.
        message = "this Idempotency-Key was already used for a different request"
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return error_response(status, code, message, details, headers)


async def _unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    presented = isinstance(exc, UnauthenticatedError) and exc.token_presented
    code = exc.code if isinstance(exc, UnauthenticatedError) else "unauthorized"
    # RFC 6750: name the scheme, and say when a token was given but refused.
    challenge = 'Bearer error="invalid_token"' if presented else "Bearer"
    return error_response(401, code, str(exc), headers={"WWW-Authenticate": challenge})


async def _too_many_attempts(request: Request, exc: Exception) -> JSONResponse:
    wait = exc.retry_after if isinstance(exc, TooManyAttemptsError) else 60
    return error_response(429, "too_many_attempts", str(exc), headers={"Retry-After": str(wait)})


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    problems = []
    if isinstance(exc, RequestValidationError):
        for error in exc.errors():
            location, *path = [str(part) for part in error.get("loc", ())] or ["body"]
            if error.get("type") == "json_invalid":
                path = []  # the rest is a character position, not a field
            message = str(error.get("msg", "is invalid"))
            cause = (error.get("ctx") or {}).get("error")
            if error.get("type") == "value_error" and cause is not None:
                message = str(cause)  # a rule's own words, without pydantic's "Value error, "
            problems.append(
                FieldProblem(field=".".join(path) or location, location=location, message=message)
            )
    fields = ", ".join(dict.fromkeys(problem.field for problem in problems))
    message = f"invalid request: {fields}" if fields else "invalid request"
    return error_response(422, "invalid_request", message, problems)


async def _invalid_query(request: Request, exc: Exception) -> JSONResponse:
    field, message = "query", str(exc)
    if isinstance(exc, InvalidQueryError | CursorError):
        field, message = exc.field, exc.message
    elif isinstance(exc, PeriodError):
        field = "period"  # the one query parameter that names a period
    problem = FieldProblem(field=field, location="query", message=message)
    return error_response(422, "invalid_request", f"invalid request: {field}", [problem])


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else "error"
    headers = exc.headers if isinstance(exc, StarletteHTTPException) else None
    message = detail if isinstance(detail, str) else str(jsonable_encoder(detail))
    if status == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): bad input, like
        # malformed JSON, so it gets the same 422 invalid_request.
        problem = FieldProblem(field="body", location="body", message=message)
        return error_response(422, "invalid_request", message, [problem])
    return error_response(
        status, _HTTP_CODES.get(status, "http_error"), message, headers=dict(headers or {})
    )


async def _stale_views(request: Request, exc: Exception) -> JSONResponse:
    return error_response(
        503,
        "stale",
        "the read models have not yet caught up with your last change; try again",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The store timed out on a lock or lost its connection; nothing was changed."""
    return error_response(
        503,
        "unavailable",
        "the ledger's store is unavailable; try again",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _no_font(request: Request, exc: Exception) -> JSONResponse:
    """A PDF cannot be printed without a Chinese font: the server's install is incomplete."""
    return error_response(503, "unavailable", str(exc))


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def _localised(handler: Handler) -> Handler:
    """The same body, its `message` in the reader's language when Accept-Language asks for
    one the pages have (web.messages; members named by name); the `code` never changes.
    Without the header, or for another language, the message stays as it was."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        response = await handler(request, exc)
        language = from_accept_language(request.headers.get("accept-language"))
        if language is None:
            return response
        body = json.loads(bytes(response.body))
        code = body["error"]["code"]
        body["error"]["message"] = await in_a_worker_thread(
            localised_message, request, exc, code, language
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return JSONResponse(body, status_code=response.status_code, headers=headers)

    return handle


def install_error_handlers(app: FastAPI) -> None:
    for kind, handler in (
        (TimebankError, _ledger_error),
        (UnauthenticatedError, _unauthenticated),
        (TooManyAttemptsError, _too_many_attempts),
        (RequestValidationError, _invalid_request),
        (InvalidQueryError, _invalid_query),
        (CursorError, _invalid_query),
        (StaleViewsError, _stale_views),
        (PeriodError, _invalid_query),
        (StarletteHTTPException, _http_error),
        (OperationalError, _store_unavailable),
        # The same outage met by the read side (SQLAlchemy) or a connection that went away.
        (InterfaceError, _store_unavailable),
        (sql.OperationalError, _store_unavailable),
        (sql.InterfaceError, _store_unavailable),
        (sql.TimeoutError, _store_unavailable),
        (MissingFontError, _no_font),
    ):
        app.add_exception_handler(kind, _localised(handler))
