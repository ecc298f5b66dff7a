"""Ids and instants as the views write them: exactly the text `str` and `isoformat` give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from projections.text import id_text, instant_text

# Offsets down to the second, as some historical zones have: orjson would round them.
offsets = st.integers(min_value=-86_399, max_value=86_399).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
zones = st.one_of(st.just(UTC), offsets, st.none())


@given(st.uuids())
def test_an_id_is_written_as_str_writes_it(ident: UUID) -> None:
    assert id_text(ident) == str(ident)


@given(st.datetimes(timezones=zones))
def test_an_instant_is_written_as_isoformat_writes_it(instant: datetime) -> None:
    assert instant_text(instant) == instant.isoformat()


def test_text_that_is_already_an_id_stays_as_it_is() -> None:
    assert id_text("not-a-uuid") == "not-a-uuid"
