"""Every route of the API: JSON request bodies are read strictly (a key given twice in one
object is refused), and a blocking endpoint costs one worker-thread hop, not two."""

from __future__ import annotations

import email.message
import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from api.threads import in_a_worker_thread


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice; which value was meant is anyone's guess."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: Python's parser would keep the last value silently."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKeyError(key)
        found[key] = value
    return found


class StrictJSONRequest(Request):
    """A request whose JSON body is parsed refusing duplicate keys, anywhere in it."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), object_pairs_hook=_unique_keys)
        return self._json


def _declares_json(request: Request) -> bool:
    """As FastAPI decides it: an `application/json` or `application/*+json` body."""
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class StrictJSONRoute(APIRoute):
    """Every route of the API: a JSON body is parsed once, here, and a duplicate key is
    422 `invalid_request` naming the key; FastAPI then reads the body parsed.

    A blocking (`def`) endpoint runs in a worker thread when its turn comes (api/threads.py),
    from a coroutine: FastAPI sends the answer of a blocking endpoint to a worker thread a second
    time, to check it against the response model, and that hop costs more than the check
    (the endpoints return their response models already built)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _as_a_coroutine(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strict(request: Request) -> Response:
            request = StrictJSONRequest(request.scope, request.receive)
            if _declares_json(request):
                await _check_keys(request)
            return await handle(request)

        return strict


def _as_a_coroutine(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` as a coroutine that runs it in a worker thread; FastAPI reads the
    parameters from the function it wraps."""

    @functools.wraps(endpoint)
    async def run(**values: Any) -> Any:
        return await in_a_worker_thread(endpoint, **values)

    return run


async def _check_keys(request: StrictJSONRequest) -> None:
    """Any other failure is left to FastAPI, which answers it as it always has (it reads
    the body again and meets the same problem)."""
    try:
        if await request.body():
            await request.json()
    except DuplicateKeyError as error:
        problem = {
            "type": "duplicate_key",
            "loc": ("body", error.key),
            "msg": f"the key {error.key!r} appears more than once",
            "input": error.key,
        }
        raise RequestValidationError([problem]) from None
    except (ClientDisconnect, ValueError, RecursionError):
        pass  # cut off (over the size limit), not JSON, not UTF-8, or nested too deep
