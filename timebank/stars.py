"""Star levels (星级志愿者) from lifetime approved hours, on a configurable ladder."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

DEFAULT_LADDER_HOURS = (100, 300, 600, 1000, 1500)  # 1 to 5 stars; Beijing: 100/200/500/800/1000


def star_level(lifetime_minutes: int, ladder_hours: Sequence[int] = DEFAULT_LADDER_HOURS) -> int:
    """How many rungs of the ladder the lifetime approved minutes reach (0 below the first)."""
    return sum(1 for hours in ladder_hours if lifetime_minutes >= hours * 60)


def parse_ladder(text: str) -> tuple[int, ...]:
    """A ladder from `100,300,600,1000,1500`: strictly increasing whole hours."""
    try:
        rungs = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"a star ladder is whole hours separated by commas: {text!r}") from None
    if not rungs or rungs[0] <= 0 or any(b <= a for a, b in pairwise(rungs)):
        raise ValueError(f"a star ladder rises strictly from above zero: {text!r}")
    return rungs
