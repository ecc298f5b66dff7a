"""Paging of lists: at most `limit` items, in a fixed order, after where the last page ended."""

from __future__ import annotations

DESCRIPTION = (
    "Every list answers `{items, next_after}` with its items in a fixed order. Ask for "
    "the next page by passing `next_after` back as `after`; it is null on the last page. "
    "`limit` (1 to 500, default 100) caps a page. Log-ordered lists (a statement, the "
    "audit events) page by log position; the others by the id of the last item seen, so "
    "items added or removed elsewhere never shift the next page (a ranking still moves "
    "as minutes change). An `after` that names nothing is 422. Unknown query parameters, "
    "and a parameter given twice, are refused (422), like unknown body fields."
)
