"""Cursors for the rows of a ranking whose member the reader may not see.

A page of the volunteer rankings that ends on a hidden member cannot hand out the member's
id as the cursor of the next page. It hands out an id-shaped value instead (an RFC 9562
version 8 UUID) that carries only what the reader already sees or could count: the row's
minutes and its place among the rows with the same minutes (the ranking lists ties by
member id), and a 48-bit tag of the reader and the member, so the ranking can find the row
again among its neighbours without knowing who it is, and without having to scan the
ranking. The tag differs from reader to reader; it confirms a guess only to whoever knows
both ids already.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

_MINUTES_BITS, _TIE_BITS, _TAG_BITS = 44, 30, 48  # 122 bits: all a version 8 UUID carries
_VERSION = 8


def tag(viewer_id: UUID, member_id: UUID) -> int:
    digest = hashlib.sha256(b"timebank:ranking-cursor:" + viewer_id.bytes + member_id.bytes)
    return int.from_bytes(digest.digest()[: _TAG_BITS // 8], "big")


def pseudonym(viewer_id: UUID, member_id: UUID, minutes: int, tie: int) -> UUID:
    """The cursor of a hidden row: its minutes, its place among its ties (from 1), a tag."""
    if not (0 <= minutes < 1 << _MINUTES_BITS and 0 <= tie < 1 << _TIE_BITS):
        raise ValueError(f"a ranking row out of a cursor's range: {minutes} minutes, {tie}")
    payload = (((minutes << _TIE_BITS) | tie) << _TAG_BITS) | tag(viewer_id, member_id)
    high, middle, low = payload >> 74, (payload >> 62) & 0xFFF, payload & ((1 << 62) - 1)
    return UUID(int=(high << 80) | (_VERSION << 76) | (middle << 64) | (0b10 << 62) | low)


def place(cursor: UUID) -> tuple[int, int, int] | None:
    """(minutes, place among ties, tag) of a cursor `pseudonym` made; None for any other."""
    value = cursor.int
    if (value >> 76) & 0xF != _VERSION or (value >> 62) & 0b11 != 0b10:
        return None
    high, middle, low = value >> 80, (value >> 64) & 0xFFF, value & ((1 << 62) - 1)
    payload = (high << 74) | (middle << 62) | low
    tag_bits = payload & ((1 << _TAG_BITS) - 1)
    tie = (payload >> _TAG_BITS) & ((1 << _TIE_BITS) - 1)
    return payload >> (_TAG_BITS + _TIE_BITS), tie, tag_bits
