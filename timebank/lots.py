"""Minutes kept as lots by the day they expire, so that expiry needs no edits.

A member's minutes are a few lots: minutes that expire on one day, and minutes that never
expire (a lot credited while the rules let nothing expire). Spending takes the lots that
expire soonest first; minutes held for a redemption leave the lots with the hold and come
back as they were if it is cancelled, and are never expired while held. A lot still unspent
on its day leaves the balance by an expiry event.

The same functions decide for the member's account (timebank.accounts), fold the read
side's balances (projections.balances), and replay history under other rules ("what if"),
so that all three agree by construction.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Mapping
from datetime import date

Lots = dict[str, int]
"""Minutes by the day they expire (ISO `YYYY-MM-DD`), or `NEVER`."""

NEVER = ""
Part = tuple[str, int]  # (expiry key, minutes) taken from or put back into lots


def expiry_key(expires_on: date | None) -> str:
    return NEVER if expires_on is None else expires_on.isoformat()


def expiry_of(key: str) -> date | None:
    return None if key == NEVER else date.fromisoformat(key)


def expires_on(credited_on: date, months: int | None) -> date | None:
    """The day minutes credited on `credited_on` expire, `months` later (the month's last
    day when it is shorter); None when the rules let nothing expire."""
    if months is None:
        return None
    index = credited_on.year * 12 + credited_on.month - 1 + months
    year, month = divmod(index, 12)
    day = min(credited_on.day, monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def _order(key: str) -> tuple[bool, str]:
    return (key == NEVER, key)  # soonest first, the lot that never expires last


def add(lots: Lots, key: str, minutes: int) -> None:
    if minutes:
        lots[key] = lots.get(key, 0) + minutes


def put_back(lots: Lots, parts: Iterable[Part]) -> None:
    for key, minutes in parts:
        add(lots, key, minutes)


def take(lots: Lots, minutes: int) -> list[Part]:
    """Take `minutes` from the lots that expire soonest, and say what was taken. The caller
    has checked that the lots hold enough; what they lack is taken from nothing."""
    taken: list[Part] = []
    for key in sorted(lots, key=_order):
        if minutes <= 0:
            break
        part = min(lots[key], minutes)
        if part:
            taken.append((key, part))
            minutes -= part
            left = lots[key] - part
            if left:
                lots[key] = left
            else:
                del lots[key]
    return taken


def due(lots: Mapping[str, int], today: date) -> list[Part]:
    """The lots expired by `today` (a lot expires at the start of its day), soonest first."""
    return [
        (key, lots[key])
        for key in sorted(lots, key=_order)
        if key != NEVER and lots[key] > 0 and date.fromisoformat(key) <= today
    ]


def expiring(lots: Mapping[str, int]) -> list[tuple[date, int]]:
    """What will expire when, soonest first."""
    return [(date.fromisoformat(k), lots[k]) for k in sorted(lots, key=_order) if k != NEVER]
