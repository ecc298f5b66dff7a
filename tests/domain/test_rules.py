"""The value rules every entry point shares: texts, numbers and dates typed as text."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from timebank.errors import InvalidRequestError
from timebank.rules import (
    EARLIEST_DATE,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    optional_text,
    parse_date,
    parse_whole_number,
    require_date,
    require_text,
)


def refusal(call: object, *args: object, **kwargs: object) -> str:
    """The message of the InvalidRequestError the call raises."""
    assert callable(call)
    with pytest.raises(InvalidRequestError) as caught:
        call(*args, **kwargs)
    return caught.value.message


# Texts ------------------------------------------------------------------------------------


def test_a_text_is_kept_in_unicode_nfc_and_trimmed_of_invisible_edges() -> None:
    decomposed = "Cafe\u0301"  # e + combining acute accent: looks like "Café"
    assert require_text("name", decomposed) == "Caf\u00e9"
    assert require_text("name", "\u200b\ufeff 王芳 \u3000\u200d") == "王芳"
    assert require_text("activity", "\t home care \n") == "home care"


@pytest.mark.parametrize(
    "blank",
    ["", "   ", "\u200b\u200b", "\u3164", "\ufeff\u2060", " \u200d\u200c ", "\u2800", "\ufe0f"],
)
def test_a_text_of_whitespace_or_invisible_characters_only_is_blank(blank: str) -> None:
    assert refusal(require_text, "activity", blank) == "must not be blank"
    assert optional_text("note", blank) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("care\x01\x1b[31m", "must not contain control characters"),
        ("bathed\x00and\x07fed", "must not contain control characters"),
        ("Li\nWang", "must not contain control characters"),
        ("Li\tWang", "must not contain control characters"),
        ("Li\x85Wang", "must not contain control characters"),  # C1: next line
        ("\x1fLi", "must not contain control characters"),  # not trimmed as whitespace
        ("Li\u202eGNAW", "must not contain characters that reverse or reorder the text"),
        ("\u2066Li\u2069", "must not contain characters that reverse or reorder the text"),
        ("Li\u200bWang", "must not contain invisible formatting characters"),
        ("Li\u00adWang", "must not contain invisible formatting characters"),
        ("Li\U000e0041", "must not contain invisible formatting characters"),  # a tag letter
        ("Li\u2028Wang", "must not contain line or paragraph separators"),
        ("Li\ud800", "must be valid Unicode text (no lone surrogates)"),
    ],
)
def test_a_name_refuses_characters_that_disguise_or_break_it(text: str, message: str) -> None:
    assert refusal(require_text, "name", text) == message


def test_a_longer_text_keeps_its_lines_and_tabs_but_no_other_control() -> None:
    note = "bathed\r\n\tand fed\rthen a walk"
    assert optional_text("note", note) == "bathed\n\tand fed\nthen a walk"
    assert require_text("reason", "wrong\nday", max_length=MAX_TEXT_LENGTH, lines=True) == (
        "wrong\nday"
    )
    assert refusal(optional_text, "note", "a\x00b") == "must not contain control characters"
    assert refusal(optional_text, "note", "a\x07b") == "must not contain control characters"


def test_writing_that_needs_joiners_and_direction_marks_is_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, joined
    assert require_text("name", f"Li {family}") == f"Li {family}"
    assert require_text("name", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645")  # Persian ZWNJ
    assert (
        require_text("name", "\u05e9\u05dc\u05d5\u05dd \u200fLi")
        == "\u05e9\u05dc\u05d5\u05dd \u200fLi"
    )


def test_a_text_is_measured_once_normalised() -> None:
    assert require_text("name", "a" * MAX_NAME_LENGTH + "  ") == "a" * MAX_NAME_LENGTH
    assert refusal(require_text, "name", "a" * (MAX_NAME_LENGTH + 1)) == (
        f"must be at most {MAX_NAME_LENGTH} characters"
    )
    assert refusal(require_text, "name", 7) == "must be text"


@given(st.text(st.characters(codec=None, exclude_categories=())), st.booleans())
@example("\u200b\u0301", False)
@example(" \u1100\u1161", False)
@example("\r\n\u0301", True)
def test_any_text_is_refused_in_words_or_kept_normalised_and_stable(
    value: str, lines: bool
) -> None:
    """Whatever arrives, the rule answers with a refusal carrying its field, or with a text
    in NFC that no longer needs trimming and that the rule keeps as it is."""
    refused: InvalidRequestError | None = None
    try:
        kept = require_text("note", value, max_length=MAX_TEXT_LENGTH, lines=lines)
    except InvalidRequestError as error:
        refused = error
    if refused is not None:
        assert (refused.field, refused.message[:5]) == ("note", "must ")
        return
    assert kept == unicodedata.normalize("NFC", kept)
    assert kept == kept.strip()
    assert 1 <= len(kept) <= MAX_TEXT_LENGTH
    assert require_text("note", kept, max_length=MAX_TEXT_LENGTH, lines=lines) == kept
    assert not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in kept)


# Numbers typed as text ----------------------------------------------------------------


def test_a_number_typed_as_text_is_read_from_the_digits_0_to_9() -> None:
    assert parse_whole_number("minutes", "120") == 120
    assert parse_whole_number("minutes", "0090") == 90
    assert parse_whole_number("after", "0") == 0


@pytest.mark.parametrize(
    "text",
    [
        "\u0661\u0662\u0660",  # Arabic-Indic 120
        "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
        "\uff11\uff12",  # full-width 12
        "\u0967\u0968",  # Devanagari 12
        "+5",
        "-1",
        " 5",
        "5_0",
        "5.0",
        "1e3",
        "",
        "sixty",
    ],
)
def test_a_number_in_other_digits_or_notation_is_refused_in_words(text: str) -> None:
    assert refusal(parse_whole_number, "minutes", text) == (
        "must be a whole number written with the digits 0-9"
    )


def test_a_number_of_thousands_of_digits_is_refused_before_it_is_converted() -> None:
    assert refusal(parse_whole_number, "minutes", "9" * 5000) == "is too large"


@given(st.text())
def test_any_text_is_a_number_or_a_refusal(text: str) -> None:
    refused: InvalidRequestError | None = None
    try:
        number = parse_whole_number("minutes", text)
    except InvalidRequestError as error:
        refused = error
    if refused is not None:
        assert refused.field == "minutes"
        return
    assert number == int(text)
    assert text.isascii()


# Dates typed as text ------------------------------------------------------------------


def test_a_date_is_exactly_year_month_day() -> None:
    assert parse_date("date", "2026-06-01") == date(2026, 6, 1)
    assert parse_date("date", "1900-01-01") == EARLIEST_DATE


@pytest.mark.parametrize(
    "text",
    [
        "2025-W02-3",  # an ISO week date: date.fromisoformat takes it in Python 3.11
        "2025W023",
        "2025-002",  # an ordinal date
        "20250102",
        "2025-1-2",
        "2025-01-02T00:00",
        "\u0662\u0660\u0662\u0665-01-02",  # Arabic-Indic year
        "\uff12\uff10\uff12\uff15-01-02",  # full-width year
        " 2025-01-02",
    ],
)
def test_other_ways_of_writing_a_date_are_refused(text: str) -> None:
    assert refusal(parse_date, "date", text) == "must be a date written YYYY-MM-DD"


def test_a_day_that_is_not_in_the_calendar_is_refused() -> None:
    assert refusal(parse_date, "date", "2026-02-30") == "is not a day of the calendar"


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31"])
def test_a_date_before_1900_is_refused(text: str) -> None:
    assert refusal(parse_date, "service_date", text) == "must not be before 1900-01-01"
    assert refusal(require_date, "birth_date", date.fromisoformat(text)) == (
        "must not be before 1900-01-01"
    )
