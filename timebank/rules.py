"""Small value rules shared by the aggregates: text fields and minute ranges."""

from __future__ import annotations

from timebank.errors import InvalidRequestError

MAX_TEXT_LENGTH = 500
MAX_NAME_LENGTH = 100
MAX_MINUTES_PER_LOG = 24 * 60  # nobody serves more than a day in one log


def require_text(field: str, value: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """A required text is not blank once trimmed, and not longer than its limit."""
    trimmed = value.strip()
    if not trimmed:
        raise InvalidRequestError(field, "must not be blank")
    if len(trimmed) > max_length:
        raise InvalidRequestError(field, f"must be at most {max_length} characters")
    return trimmed


def optional_text(
    field: str, value: str | None, *, max_length: int = MAX_TEXT_LENGTH
) -> str | None:
    """An optional text is None when blank, and not longer than its limit."""
    if value is None or not value.strip():
        return None
    return require_text(field, value, max_length=max_length)


def require_minutes(field: str, minutes: int, *, low: int = 1, high: int | None = None) -> int:
    """Minutes are whole numbers within their range; never floats, never booleans."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidRequestError(field, "must be a whole number of minutes")
    if minutes < low:
        raise InvalidRequestError(field, f"must be at least {low}")
    if high is not None and minutes > high:
        raise InvalidRequestError(field, f"must be at most {high}")
    return minutes
