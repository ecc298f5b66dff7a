"""The ledger's value rules, the same at every entry point: texts, numbers, dates, minutes."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from timebank.errors import InvalidRequestError

MAX_TEXT_LENGTH = 500
MAX_NAME_LENGTH = 100
MAX_MINUTES_PER_LOG = 24 * 60  # nobody serves more than a day in one log

EARLIEST_DATE = date(1900, 1, 1)
"""No service or birth date before this: an earlier one is a slip of the keyboard."""

MAX_NUMBER_DIGITS = 30
"""Longer numbers typed as text are refused before they are converted: no quantity the
ledger keeps comes near, and converting thousands of digits takes noticeable time."""

# Texts ------------------------------------------------------------------------------------

# Bidirectional embeddings, overrides and isolates reorder what a reader sees, so that a
# name or note can show one thing and hold another ("Trojan Source").
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))

# Format characters real writing needs: joiners (emoji sequences, Persian, Indic scripts)
# and the direction marks of mixed Arabic or Hebrew text. Every other format character is
# invisible (zero-width spaces, word joiners, tags, soft hyphens) and can disguise a text.
_NEEDED_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c")

# Trimmed from both ends with the whitespace: zero-width characters, and the blank-looking
# Hangul fillers and braille pattern used to make a name look empty or padded. Controls
# other than tab and line breaks are not trimmed: they are refused wherever they stand.
_TRIMMED = "".join(
    sorted(
        {chr(c) for c in range(0x3001) if chr(c).isspace()} - set("\x0b\x0c\x1c\x1d\x1e\x1f\x85")
        | set("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u061c\u180e")
        | set("\u115f\u1160\u3164\uffa0\u2800")
    )
)

# Invisible on their own: a text of nothing else is blank.
_INVISIBLE = frozenset(
    _TRIMMED + "\u034f\u180b\u180c\u180d\u180f" + "".join(map(chr, range(0xFE00, 0xFE10)))
) | frozenset(map(chr, range(0xE0100, 0xE01F0)))


def require_text(
    field: str, value: str, *, max_length: int = MAX_NAME_LENGTH, lines: bool = False
) -> str:
    """A required text, normalised: Unicode NFC, trimmed of whitespace and zero-width
    characters at both ends, not blank once invisible characters are set aside, free of
    control characters (a text of several `lines` keeps new lines and tabs), of
    bidirectional controls and of invisible formatting, and not longer than its limit."""
    text = _normalised(field, value, max_length=max_length, lines=lines)
    if text is None:
        raise InvalidRequestError(field, "must not be blank")
    return text


def optional_text(
    field: str, value: str | None, *, max_length: int = MAX_TEXT_LENGTH, lines: bool = True
) -> str | None:
    """An optional text is None when blank; otherwise it follows the required text's rules."""
    if value is None:
        return None
    return _normalised(field, value, max_length=max_length, lines=lines)


def _normalised(field: str, value: str, *, max_length: int, lines: bool) -> str | None:
    """The text as the ledger keeps it, or None when it is blank."""
    if not isinstance(value, str):
        raise InvalidRequestError(field, "must be text")
    if any(unicodedata.category(c) == "Cs" for c in value):
        raise InvalidRequestError(field, "must be valid Unicode text (no lone surrogates)")
    text = unicodedata.normalize("NFC", value)
    if lines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip(_TRIMMED)
    if all(c in _INVISIBLE for c in text):
        return None
    for c in text:
        _check_character(field, c, lines)
    if len(text) > max_length:
        raise InvalidRequestError(field, f"must be at most {max_length} characters")
    return text


def _check_character(field: str, c: str, lines: bool) -> None:
    category = unicodedata.category(c)
    if category == "Cc":
        if lines and c in "\n\t":
            return
        raise InvalidRequestError(field, "must not contain control characters")
    if c in _BIDI_CONTROLS:
        raise InvalidRequestError(
            field, "must not contain characters that reverse or reorder the text"
        )
    if category == "Cf" and c not in _NEEDED_FORMAT:
        raise InvalidRequestError(field, "must not contain invisible formatting characters")
    if category in ("Zl", "Zp"):
        raise InvalidRequestError(field, "must not contain line or paragraph separators")


# Numbers and dates typed as text ---------------------------------------------------------

# [0-9], never \d: in Python and in the Rust regexes pydantic runs, \d also matches
# Arabic-Indic, Devanagari, full-width and other digits.
_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")

PERIOD_PATTERN = r"^(all|[0-9]{4}(-[0-9]{2}|-W[0-9]{2})?)$"
"""A reporting period as text: `all`, a year `2026`, a month `2026-11` or an ISO week
`2026-W45`, in the digits 0-9 (for the OpenAPI document; parsed by projections.periods)."""
PERIOD = re.compile(
    r"all|(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})|-W(?P<week>[0-9]{2}))?", re.ASCII
)


def parse_whole_number(field: str, text: str) -> int:
    """A whole number typed as text: the digits 0-9 and nothing else (no sign, spaces,
    underscores, decimal point, or digits of other scripts)."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        raise InvalidRequestError(field, "must be a whole number written with the digits 0-9")
    digits = text.lstrip("0") or "0"
    if len(digits) > MAX_NUMBER_DIGITS:
        raise InvalidRequestError(field, "is too large")
    return int(digits)


def parse_date(field: str, text: str) -> date:
    """A date typed as text: exactly YYYY-MM-DD in the digits 0-9 (no ISO week or ordinal
    dates, no times), a day of the calendar, not before EARLIEST_DATE."""
    match = _DATE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidRequestError(field, "must be a date written YYYY-MM-DD")
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidRequestError(field, "is not a day of the calendar") from None
    return require_date(field, day)


def require_date(field: str, day: date) -> date:
    """Service and birth dates are not before EARLIEST_DATE."""
    if day < EARLIEST_DATE:
        raise InvalidRequestError(field, f"must not be before {EARLIEST_DATE.isoformat()}")
    return day


def require_service_date(field: str, day: date, *, today: date) -> date:
    """Service is recorded for a past or present day, never in advance."""
    require_date(field, day)
    if day > today:
        raise InvalidRequestError(field, "service cannot be logged in advance")
    return day


# Minutes ----------------------------------------------------------------------------------


def require_minutes(field: str, minutes: int, *, low: int = 1, high: int | None = None) -> int:
    """Minutes are whole numbers within their range; never floats, never booleans."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidRequestError(field, "must be a whole number of minutes")
    if minutes < low:
        raise InvalidRequestError(field, f"must be at least {low}")
    if high is not None and minutes > high:
        raise InvalidRequestError(field, f"must be at most {high}")
    return minutes
