"""Paging of lists: at most `limit` items, in a fixed order, after where the last page ended."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from api.errors import InvalidQueryError

DESCRIPTION = (
    "Every list answers `{items, next_after}` with its items in a fixed order. Ask for "
    "the next page by passing `next_after` back as `after`; it is null on the last page. "
    "`limit` (1 to 500, default 100) caps a page. Log-ordered lists (a statement, the "
    "audit events) page by log position; the others by the id of the last item seen, so "
    "items added or removed elsewhere never shift the next page (a ranking still moves "
    "as minutes change). An `after` that names nothing is 422. Unknown query parameters, "
    "and a parameter given twice, are refused (422), like unknown body fields."
)

T = TypeVar("T")


def cursor(found: T | None) -> T:
    """The item an `after` names; naming nothing this list knows is a bad request."""
    if found is None:
        raise InvalidQueryError("after", "names no item of this list; start again without it")
    return found


def keyset_page(
    rows: Iterable[T], *, key: Callable[[T], Any], after: Any | None, limit: int
) -> tuple[list[T], bool]:
    """The first `limit` rows in key order whose key follows `after`, and whether more
    follow. Keys must be unique (end them with the item's id)."""
    following = (row for row in rows if after is None or key(row) > after)
    chosen = heapq.nsmallest(limit + 1, following, key=key)
    return chosen[:limit], len(chosen) > limit
