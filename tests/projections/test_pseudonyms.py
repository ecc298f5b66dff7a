"""The cursors of hidden ranking rows: what they carry, and what they do not."""

from __future__ import annotations

from uuid import uuid4

import pytest

from projections.queries import pseudonyms


def test_a_cursor_carries_the_rows_minutes_and_place_and_no_id() -> None:
    reader, member = uuid4(), uuid4()
    cursor = pseudonyms.pseudonym(reader, member, 90, 3)
    assert cursor.version == 8
    assert member.hex[:12] not in cursor.hex
    assert pseudonyms.place(cursor) == (90, 3, pseudonyms.tag(reader, member))
    assert pseudonyms.place(pseudonyms.pseudonym(reader, member, 0, 1))[:2] == (0, 1)  # type: ignore[index]


def test_each_reader_gets_a_cursor_of_their_own() -> None:
    member = uuid4()
    assert pseudonyms.tag(uuid4(), member) != pseudonyms.tag(uuid4(), member)


def test_member_ids_are_not_cursors() -> None:
    assert pseudonyms.place(uuid4()) is None


def test_minutes_beyond_a_cursors_range_are_refused() -> None:
    with pytest.raises(ValueError, match="out of a cursor's range"):
        pseudonyms.pseudonym(uuid4(), uuid4(), 1 << 44, 1)
