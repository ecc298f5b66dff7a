"""What every form shares: minutes typed as hours and minutes, and where to go after."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form
from fastapi.responses import RedirectResponse

from timebank.errors import InvalidRequestError

MAX_HOURS = 24 * 366

Hours = Annotated[int, Form(ge=0, le=MAX_HOURS)]
Minutes = Annotated[int, Form(ge=0, le=59)]


def minutes_of(hours: int, minutes: int) -> int:
    """Whole minutes from the two boxes; nothing at all is refused (the ledger would say
    so too, but in its own words about a different field)."""
    total = hours * 60 + minutes
    if total <= 0:
        raise InvalidRequestError("minutes", "give at least one minute")
    return total


def back_to(path: str, done: str) -> RedirectResponse:
    """After a form: the page again (POST, redirect, GET), saying what was done."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}done={done}", status_code=303)


def optional(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None
